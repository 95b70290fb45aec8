// HostState: see Package.swift

// Registry: see Package.swift

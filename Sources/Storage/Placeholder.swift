// Storage: see Package.swift

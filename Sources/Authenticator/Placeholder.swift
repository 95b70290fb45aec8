// Authenticator: see Package.swift

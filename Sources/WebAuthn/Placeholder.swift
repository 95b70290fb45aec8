// WebAuthn: see Package.swift

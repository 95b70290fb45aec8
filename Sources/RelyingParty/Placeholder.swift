// RelyingParty: see Package.swift

// HelperProtocol: see Package.swift

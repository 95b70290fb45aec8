// Intelligence: see Package.swift

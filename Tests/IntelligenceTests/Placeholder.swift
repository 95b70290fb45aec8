import XCTest

final class IntelligenceTestsPlaceholder: XCTestCase {}

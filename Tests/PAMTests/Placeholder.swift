import XCTest

final class PAMTestsPlaceholder: XCTestCase {}

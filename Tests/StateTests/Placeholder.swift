import XCTest

final class StateTestsPlaceholder: XCTestCase {}

import XCTest

final class AuthenticatorTestsPlaceholder: XCTestCase {}

import CRuntimeOverrides
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sources/CRuntimeOverrides: the static runtime's math functions, defined in the module and
/// the helper, forwarding to libm opened on the first call, and ceil computed there; and the
/// process's arguments as glibc hands them to .init_array. This test binary links the target
/// too, so its own calls to `floor` or `fmod` are the forwarders; libm's functions are looked
/// up by name in libm for the comparison. (Its CommandLine comes from the toolchain's shared
/// runtime, which keeps its own search: the helper's tests are where CommandLine.arguments
/// goes through these.)
final class RuntimeOverridesTests: XCTestCase {
    private func libm<T>(_ name: String, as type: T.Type) throws -> T {
        let handle = try XCTUnwrap(dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL), "libm.so.6 cannot be opened")
        let symbol = try XCTUnwrap(dlsym(handle, name), "libm has no \(name)")
        return unsafeBitCast(symbol, to: type)
    }

    /// Bit for bit, NaNs and signed zeros included: a Dictionary's capacity is computed with
    /// it in every login, so it must be libm's answer, not an approximation of it.
    func testCeilIsLibmsBitForBit() throws {
        let libmCeil = try libm("ceil", as: (@convention(c) (Double) -> Double).self)
        var cases: [Double] = [0, -0.0, 0.5, -0.5, 1, -1, 1.5, -1.5, 0.999_999_999_999_999_9, -0.999_999_999_999_999_9,
                               .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, -.nan,
                               .signalingNaN, -.signalingNaN, 0x1p52, -0x1p52, 0x1p53, -0x1p53, 0x1p63, -0x1p63, 0x1p64]
        for e in [0x1p52, 0x1p53, 0x1p63] as [Double] {
            cases += [e.nextDown, e.nextUp, -e.nextDown, -e.nextUp, e.nextDown - 0.5, -(e.nextDown - 0.5)]
        }
        // Every bit pattern is a case: exponents of all sizes, NaN payloads, subnormals.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200_000 { cases.append(Double(bitPattern: generator.next())) }
        // And the range where rounding happens, with a fraction to drop.
        for _ in 0..<200_000 { cases.append(Double.random(in: -0x1p53...0x1p53, using: &generator)) }
        for _ in 0..<100_000 { cases.append(Double.random(in: -1000...1000, using: &generator)) }
        var differences: [String] = []
        for x in cases where pam_passkey_ceil(x).bitPattern != libmCeil(x).bitPattern {
            differences.append("ceil(\(x) = 0x\(String(x.bitPattern, radix: 16))): \(pam_passkey_ceil(x)), libm \(libmCeil(x))")
        }
        XCTAssertEqual(differences, [], "\(differences.count) of \(cases.count) differ")
    }

    /// The forwarders give libm's answers (one of each shape), and after the first of them
    /// libm is open. The arguments are parsed at run time, so the compiler cannot fold a call
    /// away or turn it into an instruction.
    func testForwardersGiveLibmsAnswers() throws {
        typealias Unary = @convention(c) (Double) -> Double
        typealias Binary = @convention(c) (Double, Double) -> Double
        let v = try ["-2.5", "1.25", "3", "7.5", "2", "0.5", "1"].map { try XCTUnwrap(Double($0)) }
        XCTAssertEqual(floor(v[0]), try libm("floor", as: Unary.self)(v[0]))
        XCTAssertEqual(floor(v[0]), -3)
        XCTAssertEqual(pam_passkey_libm_opened(), 1)
        XCTAssertEqual(sin(v[1]).bitPattern, try libm("sin", as: Unary.self)(v[1]).bitPattern)
        XCTAssertEqual(log(v[2]).bitPattern, try libm("log", as: Unary.self)(v[2]).bitPattern)
        XCTAssertEqual(fmod(v[3], v[4]), try libm("fmod", as: Binary.self)(v[3], v[4]))
        XCTAssertEqual(fmod(v[3], v[4]), 1.5)
        XCTAssertEqual(pow(v[4], v[5]).bitPattern, try libm("pow", as: Binary.self)(v[4], v[5]).bitPattern)
        XCTAssertEqual(fma(v[4], v[2], v[6]), 7)
        var quotient: Int32 = 0
        XCTAssertEqual(remquo(v[3] - 0.5, v[4], &quotient), -1)
        XCTAssertEqual(quotient, 4)
        XCTAssertEqual(floorf(Float(v[0])), -3)
        XCTAssertEqual(truncl(Float80(v[0])), -2)
        XCTAssertEqual(Float(v[3]).truncatingRemainder(dividingBy: Float(v[4])), 1.5)
        let notANumber: Double = nan("")
        XCTAssertTrue(notANumber.isNaN)
    }

    /// The same arguments, in the same order, as the kernel gave the process
    /// (/proc/self/cmdline: NUL-terminated strings).
    func testArgumentsAreTheProcesssOwn() throws {
        let fd = open("/proc/self/cmdline", O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let expected = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        var count: Int32 = -1
        let argv = try XCTUnwrap(pam_passkey_arguments(&count))
        let got = (0..<Int(count)).map { String(cString: argv[$0]!) }
        XCTAssertEqual(got, expected)
        XCTAssertNil(argv[Int(count)], "argv ends with NULL")
        XCTAssertGreaterThanOrEqual(count, 1)
    }
}

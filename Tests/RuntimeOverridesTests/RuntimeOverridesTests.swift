import CRuntimeOverrides
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sources/CRuntimeOverrides: the static runtime's math functions, defined in the module and
/// the helper, forwarding to libm opened on the first call, and the rounding family computed
/// there; and the
/// process's arguments as glibc hands them to .init_array. This test binary links the target
/// too, so its own calls to `sin` or `fmod` are the forwarders; libm's functions are looked
/// up by name in libm for the comparison. (Its CommandLine comes from the toolchain's shared
/// runtime, which keeps its own search: the helper's tests are where CommandLine.arguments
/// goes through these.)
final class RuntimeOverridesTests: XCTestCase {
    private func libm<T>(_ name: String, as type: T.Type) throws -> T {
        let handle = try XCTUnwrap(dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL), "libm.so.6 cannot be opened")
        let symbol = try XCTUnwrap(dlsym(handle, name), "libm has no \(name)")
        return unsafeBitCast(symbol, to: type)
    }

    /// Bit for bit, NaNs and signed zeros included: the standard library rounds with them
    /// (a Dictionary's capacity in every login), so each must be libm's answer, not an
    /// approximation of it.
    func testTheRoundingFamilyIsLibmsBitForBit() throws {
        var cases: [Double] = [0, -0.0, 0.5, -0.5, 1, -1, 1.5, -1.5, 2.5, -2.5, 0.499_999_999_999_999_94, -0.499_999_999_999_999_94,
                               0.999_999_999_999_999_9, -0.999_999_999_999_999_9,
                               .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, -.nan,
                               .signalingNaN, -.signalingNaN, 0x1p52, -0x1p52, 0x1p53, -0x1p53, 0x1p63, -0x1p63, 0x1p64]
        for e in [0x1p52, 0x1p53, 0x1p63] as [Double] {
            cases += [e.nextDown, e.nextUp, -e.nextDown, -e.nextUp, e.nextDown - 0.5, -(e.nextDown - 0.5)]
        }
        // Every bit pattern is a case: exponents of all sizes, NaN payloads, subnormals.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 { cases.append(Double(bitPattern: generator.next())) }
        // And the range where rounding happens, with a fraction to drop, halves among them.
        for _ in 0..<100_000 { cases.append(Double.random(in: -0x1p53...0x1p53, using: &generator)) }
        for _ in 0..<50_000 { cases.append(Double.random(in: -1000...1000, using: &generator)) }
        for _ in 0..<20_000 { cases.append(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) + 0.5) }

        var floats: [Float] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.499_999_97, -0.499_999_97, .infinity, -.infinity, .nan,
                               -.nan, .signalingNaN, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
                               0x1p23, -0x1p23, Float(0x1p23).nextDown, -Float(0x1p23).nextDown, 0x1p24, Float(0x1p24).nextDown]
        for _ in 0..<100_000 { floats.append(Float(bitPattern: UInt32.random(in: .min ... .max, using: &generator))) }
        for _ in 0..<100_000 { floats.append(Float.random(in: -0x1p24...0x1p24, using: &generator)) }
        for _ in 0..<20_000 { floats.append(Float(Int.random(in: -100_000...100_000, using: &generator)) + 0.5) }

        typealias D = @convention(c) (Double) -> Double
        typealias F = @convention(c) (Float) -> Float
        let doubles: [(String, D)] = [("ceil", pam_passkey_ceil), ("floor", pam_passkey_floor), ("trunc", pam_passkey_trunc),
                                      ("round", pam_passkey_round), ("rint", pam_passkey_rint), ("nearbyint", pam_passkey_rint)]
        let singles: [(String, F)] = [("ceilf", pam_passkey_ceilf), ("floorf", pam_passkey_floorf), ("truncf", pam_passkey_truncf),
                                      ("roundf", pam_passkey_roundf), ("rintf", pam_passkey_rintf), ("nearbyintf", pam_passkey_rintf)]
        var differences: [String] = []
        for (name, ours) in doubles {
            let theirs = try libm(name, as: D.self)
            for x in cases where ours(x).bitPattern != theirs(x).bitPattern {
                differences.append("\(name)(\(x) = 0x\(String(x.bitPattern, radix: 16))): \(ours(x)), libm \(theirs(x))")
            }
        }
        for (name, ours) in singles {
            let theirs = try libm(name, as: F.self)
            for x in floats where ours(x).bitPattern != theirs(x).bitPattern {
                differences.append("\(name)(\(x) = 0x\(String(x.bitPattern, radix: 16))): \(ours(x)), libm \(theirs(x))")
            }
        }
        XCTAssertEqual(Array(differences.prefix(20)), [], "\(differences.count) differ")
    }

    /// rint follows the rounding mode, as libm's does (fesetround is process-wide).
    func testRintFollowsTheRoundingMode() throws {
        let theirs = try libm("rint", as: (@convention(c) (Double) -> Double).self)
        let saved = fegetround()
        defer { fesetround(saved) }
        var differences: [String] = []
        // <fenv.h>'s x86_64 values (its names are both an enum and a macro, which Swift
        // cannot tell apart): to nearest, downward, upward, toward zero.
        for mode: Int32 in [0, 0x400, 0x800, 0xc00] {
            XCTAssertEqual(fesetround(mode), 0)
            for x in [-2.5, -1.5, -0.5, -0.3, 0.3, 0.5, 1.5, 2.5, 1e15 + 0.5, -1e15 - 0.5] as [Double]
            where pam_passkey_rint(x).bitPattern != theirs(x).bitPattern {
                differences.append("mode \(mode): rint(\(x)): \(pam_passkey_rint(x)), libm \(theirs(x))")
            }
        }
        XCTAssertEqual(differences, [])
    }

    /// The forwarders give libm's answers (one of each shape), and after the first of them
    /// libm is open. The arguments are parsed at run time, so the compiler cannot fold a call
    /// away or turn it into an instruction.
    func testForwardersGiveLibmsAnswers() throws {
        typealias Unary = @convention(c) (Double) -> Double
        typealias Binary = @convention(c) (Double, Double) -> Double
        let v = try ["-2.5", "1.25", "3", "7.5", "2", "0.5", "1"].map { try XCTUnwrap(Double($0)) }
        // The rounding family is computed here: floor alone does not open libm.
        XCTAssertEqual(floor(v[0]), -3)
        XCTAssertEqual(sin(v[1]).bitPattern, try libm("sin", as: Unary.self)(v[1]).bitPattern)
        XCTAssertEqual(pam_passkey_libm_opened(), 1)
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

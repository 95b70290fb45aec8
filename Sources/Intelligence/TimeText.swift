import Registry
import Identifiers
/// "2026-03-14 09:26 UTC" for reasons and explain output. Written out here rather than
/// through a date library: the module must not pull in ICU, and UTC needs no time zone data.
public func utcText(_ seconds: Int64) -> String {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras.
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)) UTC"
}

/// A duration as an administrator would write it in the policy file: 90s, 15m, 12h, 3d.
func durationText(_ seconds: Int) -> String {
    if seconds > 0 && seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
    if seconds > 0 && seconds % 3600 == 0 { return "\(seconds / 3600)h" }
    if seconds > 0 && seconds % 60 == 0 { return "\(seconds / 60)m" }
    return "\(seconds)s"
}


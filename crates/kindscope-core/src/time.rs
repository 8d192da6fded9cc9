//! RFC 3339 times as kindscope writes them: UTC with `Z`, at a fixed precision per use, so
//! journals, bundles and the simulator's objects keep one byte-exact format.

pub use jiff::{SignedDuration, Timestamp};

/// Digits after the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-01-01T00:00:00Z`
    Secs,
    /// `2026-01-01T00:00:00.000000Z`
    Micros,
    /// `2026-01-01T00:00:00.000000000Z`
    Nanos,
    /// None, 3, 6 or 9 digits: the fewest that hold the time exactly.
    Auto,
}

/// `t` in UTC with `Z`; extra digits are truncated, not rounded.
pub fn rfc3339(t: Timestamp, p: Precision) -> String {
    let nanos = t.subsec_nanosecond().unsigned_abs();
    let digits = match p {
        Precision::Secs => 0,
        Precision::Micros => 6,
        Precision::Nanos => 9,
        Precision::Auto if nanos == 0 => 0,
        Precision::Auto if nanos.is_multiple_of(1_000_000) => 3,
        Precision::Auto if nanos.is_multiple_of(1_000) => 6,
        Precision::Auto => 9,
    };
    format!("{t:.digits$}")
}

/// An RFC 3339 time with any offset.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// Serde for a [`Timestamp`] as [`Precision::Auto`] RFC 3339.
pub mod serde_auto {
    use super::{Precision, Timestamp, rfc3339};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*t, Precision::Auto))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        parse_rfc3339(s).expect("valid time")
    }

    #[test]
    fn precisions_are_fixed_and_truncate() {
        let t = at("2026-01-01T00:00:00.123456789Z");
        assert_eq!(rfc3339(t, Precision::Secs), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(t, Precision::Micros), "2026-01-01T00:00:00.123456Z");
        assert_eq!(
            rfc3339(t, Precision::Nanos),
            "2026-01-01T00:00:00.123456789Z"
        );
        let whole = at("2026-01-01T02:00:00+02:00");
        assert_eq!(
            rfc3339(whole, Precision::Micros),
            "2026-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn auto_uses_groups_of_three_digits() {
        assert_eq!(
            rfc3339(at("2026-01-01T00:00:00Z"), Precision::Auto),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(at("2026-01-01T00:00:00.1Z"), Precision::Auto),
            "2026-01-01T00:00:00.100Z"
        );
        assert_eq!(
            rfc3339(at("2026-01-01T00:00:00.12345Z"), Precision::Auto),
            "2026-01-01T00:00:00.123450Z"
        );
        assert_eq!(
            rfc3339(at("2026-01-01T00:00:00.1234567Z"), Precision::Auto),
            "2026-01-01T00:00:00.123456700Z"
        );
    }
}

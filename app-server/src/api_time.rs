//! Times in API and CLI JSON: RFC 3339 in UTC with milliseconds, `2026-12-05T13:00:00.123Z`.
//!
//! Storage keeps Unix milliseconds (`i64`); this module is the one translation between the two,
//! applied to view fields with `#[serde(with = "crate::api_time")]` (or `::option`, `::range`).
//! Requests that carry a time take RFC 3339 with any offset; integers are refused, so a client
//! still sending Unix milliseconds gets a clear 400 instead of a date in 1970 or 57000.
//! No I/O, no framework.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix ms as RFC 3339 UTC with milliseconds.
pub fn format(ms: i64) -> String {
    leakguard_domain::audit::format_ts(ms)
}

/// RFC 3339 (any offset) as Unix ms, rounded down to the millisecond.
pub fn parse(text: &str) -> Result<i64, String> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time ({e})"))?;
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| format!("{text:?} is out of range"))
}

/// Serializes Unix ms as RFC 3339.
pub fn serialize<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*ms))
}

/// Deserializes RFC 3339 into Unix ms.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(D::Error::custom)
}

/// An optional time (`null` when absent).
pub mod option {
    use super::*;

    /// Serializes `Some(ms)` as RFC 3339, `None` as `null`.
    pub fn serialize<S: Serializer>(ms: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => serializer.serialize_some(&format(*ms)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes RFC 3339 or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse(&text).map_err(D::Error::custom))
            .transpose()
    }
}

/// An optional range of times, `[oldest, newest]` or `null`.
pub mod range {
    use super::*;

    /// Serializes `Some((a, b))` as a two-element array of RFC 3339 strings.
    pub fn serialize<S: Serializer>(
        range: &Option<(i64, i64)>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match range {
            Some((from, to)) => serializer.serialize_some(&[format(*from), format(*to)]),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unix_ms_format_as_rfc3339_utc_with_milliseconds() {
        assert_eq!(format(1_796_458_616_402), "2026-12-05T08:16:56.402Z");
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn rfc3339_parses_back_to_the_same_ms_whatever_the_offset() {
        assert_eq!(parse("2026-12-05T08:16:56.402Z"), Ok(1_796_458_616_402));
        assert_eq!(
            parse("2026-12-05T09:16:56.402+01:00"),
            Ok(1_796_458_616_402)
        );
        assert_eq!(parse("2026-12-05T08:16:56.4029Z"), Ok(1_796_458_616_402));
        assert_eq!(parse("1969-12-31T23:59:59.9995Z"), Ok(-1));
    }

    #[test]
    fn unix_ms_and_free_text_are_refused() {
        assert!(parse("1796458616402").is_err());
        assert!(parse("2026-12-05").is_err());
        assert!(parse("tomorrow").is_err());
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct View {
        #[serde(with = "super")]
        at: i64,
        #[serde(with = "super::option")]
        until: Option<i64>,
    }

    #[test]
    fn a_view_round_trips_through_json_and_integers_are_refused() {
        let view = View {
            at: 1_796_458_616_402,
            until: None,
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"at": "2026-12-05T08:16:56.402Z", "until": null})
        );
        assert_eq!(serde_json::from_value::<View>(json).unwrap(), view);
        let legacy = serde_json::json!({"at": 1_796_458_616_402_i64, "until": null});
        assert!(serde_json::from_value::<View>(legacy).is_err());
    }
}

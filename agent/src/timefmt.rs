//! Calendar arithmetic for log timestamps: parsing the few formats the sources use and
//! printing RFC 3339. Pure functions; no clock, no time zone database.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = if days >= 0 { days } else { days - 146_096 } / 146_097;
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds of a civil date-time, if the fields are in range.
pub fn unix_from_parts(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second),
    )
}

/// `2026-11-28T08:18:00Z`.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

/// Start of the minute.
pub fn minute_of(unix: i64) -> i64 {
    unix - unix.rem_euclid(60)
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    let mut value = 0u32;
    for &byte in bytes {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(byte - b'0');
    }
    Some(value)
}

/// `H:MM:SS` or `HH:MM:SS` (hour may be space-padded by the caller's trimming).
fn clock(text: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(|&b| b == b':');
    let hour = digits(parts.next()?)?;
    let minute = digits(parts.next()?)?;
    let second_part = parts.next()?;
    let second_digits = second_part.split(|&b| b == b'.').next()?;
    let second = digits(second_digits)?;
    Some((hour, minute, second))
}

/// MariaDB `YYMMDD H:MM:SS` (general and slow log; hour space-padded), server local time
/// shifted by `utc_offset_s`.
pub fn parse_mariadb_short(text: &[u8], utc_offset_s: i64) -> Option<i64> {
    let text = text.trim_ascii();
    if text.len() < 13 || !text[..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = 2000 + i64::from(digits(&text[0..2])?);
    let month = digits(&text[2..4])?;
    let day = digits(&text[4..6])?;
    let (hour, minute, second) = clock(text[6..].trim_ascii())?;
    Some(unix_from_parts(year, month, day, hour, minute, second)? - utc_offset_s)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM]`. Without a zone the text is local time shifted
/// by `utc_offset_s`.
pub fn parse_iso(text: &[u8], utc_offset_s: i64) -> Option<i64> {
    if text.len() < 19
        || text[4] != b'-'
        || text[7] != b'-'
        || !(text[10] == b'T' || text[10] == b' ')
    {
        return None;
    }
    let year = i64::from(digits(&text[0..4])?);
    let month = digits(&text[5..7])?;
    let day = digits(&text[8..10])?;
    let (hour, minute, second) = clock(&text[11..19])?;
    let base = unix_from_parts(year, month, day, hour, minute, second)?;
    let mut rest = &text[19..];
    if rest.first() == Some(&b'.') {
        let end = rest[1..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(rest.len(), |p| p + 1);
        rest = &rest[end..];
    }
    match rest.first() {
        Some(b'Z') => Some(base),
        Some(&sign) if (sign == b'+' || sign == b'-') && rest.len() >= 6 => {
            let hours = i64::from(digits(&rest[1..3])?);
            let minutes = i64::from(digits(&rest[4..6])?);
            let offset = (hours * 3600 + minutes * 60) * if sign == b'+' { 1 } else { -1 };
            Some(base - offset)
        }
        _ => Some(base - utc_offset_s),
    }
}

/// server_audit `YYYYMMDD HH:MM:SS`, local time.
pub fn parse_audit(text: &[u8], utc_offset_s: i64) -> Option<i64> {
    if text.len() != 17 || text[8] != b' ' {
        return None;
    }
    let year = i64::from(digits(&text[0..4])?);
    let month = digits(&text[4..6])?;
    let day = digits(&text[6..8])?;
    let (hour, minute, second) = clock(&text[9..17])?;
    Some(unix_from_parts(year, month, day, hour, minute, second)? - utc_offset_s)
}

/// Access log `28/Nov/2026:08:21:30 +0000`.
pub fn parse_clf(text: &[u8]) -> Option<i64> {
    if text.len() < 26 {
        return None;
    }
    let day = digits(&text[0..2])?;
    let month = match &text[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = i64::from(digits(&text[7..11])?);
    let (hour, minute, second) = clock(&text[12..20])?;
    let base = unix_from_parts(year, month, day, hour, minute, second)?;
    let sign = text[21];
    let hours = i64::from(digits(&text[22..24])?);
    let minutes = i64::from(digits(&text[24..26])?);
    let offset = (hours * 3600 + minutes * 60) * if sign == b'-' { -1 } else { 1 };
    Some(base - offset)
}

/// `+02:00`, `-0530`, `Z`, `UTC` → seconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") || text.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes()[0] {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let rest: String = rest.chars().filter(|c| *c != ':').collect();
    if rest.len() != 4 {
        return None;
    }
    let hours: i64 = rest[0..2].parse().ok()?;
    let minutes: i64 = rest[2..4].parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_formats_parse_to_the_same_instant() {
        let expected = Some(1_795_853_881);
        assert_eq!(parse_mariadb_short(b"261128  8:18:01", 0), expected);
        assert_eq!(parse_iso(b"2026-11-28T08:18:01.913747+00:00", 0), expected);
        assert_eq!(parse_iso(b"2026-11-28T10:18:01+02:00", 0), expected);
        assert_eq!(parse_audit(b"20261128 08:18:01", 0), expected);
        assert_eq!(parse_clf(b"28/Nov/2026:08:18:01 +0000"), expected);
        assert_eq!(rfc3339(1_795_853_881), "2026-11-28T08:18:01Z");
        assert_eq!(parse_utc_offset("+02:00"), Some(7200));
        assert_eq!(parse_mariadb_short(b"garbage", 0), None);
    }
}

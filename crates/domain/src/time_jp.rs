//! Dates as Japanese users expect them: Japan Standard Time (UTC+9, no daylight saving, so no
//! time-zone database is needed), `2026年11月23日 15:04`, and 和暦 for the forms that use it.

use time::{Date, OffsetDateTime, UtcOffset};

pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// A moment given as milliseconds since the Unix epoch, in JST.
pub fn to_jst(unix_ms: i64) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    utc.to_offset(JST)
}

/// `2026年11月23日 15:04` (JST).
pub fn format_datetime(unix_ms: i64) -> String {
    let t = to_jst(unix_ms);
    format!("{}年{}月{}日 {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// `2026-11-23T15:04:05+09:00`, for CSV exports that other software reads.
pub fn format_iso_jst(unix_ms: i64) -> String {
    let t = to_jst(unix_ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+09:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `令和8年11月23日`: the 和暦 form used on the municipal 様式.
pub fn format_wareki(date: Date) -> String {
    let (era, first_year) = match (date.year(), u8::from(date.month()), date.day()) {
        (y, m, d) if (y, m, d) >= (2019, 5, 1) => ("令和", 2019),
        (y, m, d) if (y, m, d) >= (1989, 1, 8) => ("平成", 1989),
        (y, m, d) if (y, m, d) >= (1926, 12, 25) => ("昭和", 1926),
        _ => return format!("{}年{}月{}日", date.year(), u8::from(date.month()), date.day()),
    };
    let n = date.year() - first_year + 1;
    let year = if n == 1 { "元".to_string() } else { n.to_string() };
    format!("{era}{year}年{}月{}日", u8::from(date.month()), date.day())
}

/// The start of a JST calendar day, in Unix milliseconds (for "from this date" filters).
pub fn jst_day_start_ms(date: Date) -> i64 {
    let t = date.midnight().assume_offset(JST);
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn formats_in_japan_time() {
        // 2026-11-23T06:04:00Z is 15:04 in Japan.
        let ms = 1_795_413_840_000;
        assert_eq!(format_datetime(ms), "2026年11月23日 15:04");
        assert_eq!(format_iso_jst(ms), "2026-11-23T15:04:00+09:00");
    }

    #[test]
    fn wareki_eras_begin_on_their_first_day() {
        assert_eq!(format_wareki(date!(2026 - 11 - 23)), "令和8年11月23日");
        assert_eq!(format_wareki(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(format_wareki(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(format_wareki(date!(1989 - 01 - 07)), "昭和64年1月7日");
    }

    #[test]
    fn day_start_is_midnight_in_japan() {
        assert_eq!(jst_day_start_ms(date!(2026 - 11 - 23)), 1_795_359_600_000);
    }
}

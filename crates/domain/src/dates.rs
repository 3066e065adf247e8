//! Calendar dates a person types on a form (a birth date, the day consent was given): a valid
//! date, not in the future, stored as `YYYY-MM-DD`.

use std::fmt;

use crate::FieldError;
use crate::text::normalize;

/// What the form says about a date it cannot take.
pub const PAST_DATE_MESSAGE: &str = "日付は 2026-11-23 の形で、今日以前の日を入力してください。";

/// `2026-11-23`, `2026/11/23` or full-width forms of them (month and day with or without a
/// leading zero), a real calendar date from 1900 on and not after `today`; as `YYYY-MM-DD`.
pub fn parse_past_date(field: &'static str, input: &str, today: time::Date) -> Result<String, FieldError> {
    let v = normalize(input).replace('/', "-");
    let format = time::macros::format_description!("[year]-[month padding:none]-[day padding:none]");
    match time::Date::parse(&v, format) {
        Ok(d) if d <= today && d.year() >= 1900 => {
            Ok(format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        }
        _ => Err(FieldError::new(field, PAST_DATE_MESSAGE)),
    }
}

/// 生年月日: a valid calendar date, not in the future when it was entered; `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate(String);

impl BirthDate {
    /// Reads what a person typed (see [`parse_past_date`]); `today` is the date in Japan.
    pub fn parse(field: &'static str, input: &str, today: time::Date) -> Result<Self, FieldError> {
        parse_past_date(field, input, today).map(Self)
    }

    /// Wraps a value that was parsed before it was stored.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_real_dates_not_in_the_future() {
        let today = time::macros::date!(2026 - 11 - 23);
        let ok = |typed: &str| BirthDate::parse("birth_date", typed, today).map(|d| d.to_string());
        assert_eq!(ok("1940-04-01"), Ok("1940-04-01".into()));
        assert_eq!(ok("１９４０/４/１"), Ok("1940-04-01".into()));
        assert_eq!(ok("2026-11-23"), Ok("2026-11-23".into()));
        for wrong in ["2026-11-24", "1940-02-30", "1899-12-31", "", "昭和15年4月1日", "1940-13-01"] {
            assert_eq!(ok(wrong), Err(FieldError::new("birth_date", PAST_DATE_MESSAGE)), "{wrong}");
        }
    }
}

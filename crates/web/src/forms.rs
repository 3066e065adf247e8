//! Form bodies. They are parsed once, strictly (invalid percent-encoding or UTF-8 is refused
//! rather than turned into replacement characters), by the CSRF guard; handlers take the
//! result as [`Form`]. [`FormState`] carries what the user typed and the errors back to the page.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use renraku_domain::FieldError;

use crate::error::AppError;

/// The fields of a submitted form. [`Form::get`] gives a name's last value, [`Form::all`]
/// every value of a repeated name (checkbox lists).
#[derive(Debug, Clone, Default)]
pub struct Form {
    fields: HashMap<String, String>,
    pairs: Vec<(String, String)>,
}

impl Form {
    /// A form from name/value pairs (what the command line passes in).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let pairs: Vec<(String, String)> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self { fields: pairs.iter().cloned().collect(), pairs }
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "on" | "1" | "true" | "yes")
    }

    /// The length in bytes of the longest value.
    pub fn longest_value(&self) -> usize {
        self.pairs.iter().map(|(_, v)| v.len()).max().unwrap_or(0)
    }

    /// The values to show again on the page (never passwords).
    pub fn echo(&self) -> FormState {
        let values = self.fields.iter().filter(|(k, _)| !k.contains("password") && k.as_str() != "_csrf");
        FormState { values: values.map(|(k, v)| (k.clone(), v.clone())).collect(), errors: HashMap::new() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Form {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Form>()
            .cloned()
            .ok_or_else(|| AppError::BadRequest("フォームの内容を読み取れませんでした。".into()))
    }
}

/// Why a body is not a valid form.
#[derive(Debug, PartialEq, Eq)]
pub enum FormParseError {
    BadEncoding,
    NotUtf8,
}

/// Parses `application/x-www-form-urlencoded` strictly.
pub fn parse_urlencoded(body: &[u8]) -> Result<Form, FormParseError> {
    let mut pairs = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut it = pair.splitn(2, |b| *b == b'=');
        let key = decode(it.next().unwrap_or_default())?;
        let value = decode(it.next().unwrap_or_default())?;
        pairs.push((key, value));
    }
    Ok(Form { fields: pairs.iter().cloned().collect(), pairs })
}

fn decode(raw: &[u8]) -> Result<String, FormParseError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).ok_or(FormParseError::BadEncoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| FormParseError::BadEncoding)?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| FormParseError::BadEncoding)?);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| FormParseError::NotUtf8)
}

/// What a page needs to show a form again: the values typed and a message per field.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl FormState {
    pub fn with(values: impl IntoIterator<Item = (&'static str, String)>) -> Self {
        Self { values: values.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), errors: HashMap::new() }
    }

    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.v(name), "on" | "1" | "true" | "yes")
    }

    pub fn e(&self, name: &str) -> &str {
        self.errors.get(name).map(String::as_str).unwrap_or("")
    }

    /// Every field error, as (field, message), in field-name order.
    pub fn errors(&self) -> Vec<(&str, &str)> {
        let mut errors: Vec<(&str, &str)> =
            self.errors.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        errors.sort();
        errors
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn error(&mut self, e: FieldError) {
        self.errors.entry(e.field.to_string()).or_insert(e.message);
    }

    /// Keeps the value of a parse, or records its error and gives `None`.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_japanese_is_decoded() {
        let f = parse_urlencoded("name=%E6%B5%81%E5%B1%B1%E5%B8%82&x=a+b&empty=".as_bytes()).unwrap();
        assert_eq!(f.get("name"), "流山市");
        assert_eq!(f.get("x"), "a b");
        assert_eq!(f.get("empty"), "");
        assert_eq!(f.get("missing"), "");
        let many = parse_urlencoded(b"m=a&m=b&x=1").unwrap();
        assert_eq!(many.all("m"), ["a", "b"]);
        assert_eq!(many.get("m"), "b");
    }

    #[test]
    fn invalid_utf8_and_bad_escapes_are_refused() {
        assert_eq!(parse_urlencoded(b"name=%FF%FE").unwrap_err(), FormParseError::NotUtf8);
        assert_eq!(parse_urlencoded(b"name=\xff").unwrap_err(), FormParseError::NotUtf8);
        assert_eq!(parse_urlencoded(b"name=%G1").unwrap_err(), FormParseError::BadEncoding);
        assert_eq!(parse_urlencoded(b"name=%4").unwrap_err(), FormParseError::BadEncoding);
    }

    #[test]
    fn passwords_are_never_echoed() {
        let f = parse_urlencoded(b"login_id=abc&password=secret1&new_password=x&_csrf=t").unwrap();
        let echo = f.echo();
        assert_eq!(echo.v("login_id"), "abc");
        assert_eq!(echo.v("password"), "");
        assert_eq!(echo.v("new_password"), "");
        assert_eq!(echo.v("_csrf"), "");
    }
}

//! Renraku's domain: the values the product handles, each parsed once into a type that can only
//! hold a valid value ("parse, don't validate"), and the rules that need no I/O.
//!
//! Nothing here touches the network, a database or the clock: the callers pass "now" in.

#[macro_use]
pub mod code_enum;

pub mod audit;
pub mod audit_action;
pub mod audit_anchor;
pub mod dates;
pub mod directory;
pub mod ids;
pub mod password;
pub mod rooms;
pub mod service_kind;
pub mod text;
pub mod time_jp;

/// A problem with one form field: which field, and a message for the user (Japanese).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

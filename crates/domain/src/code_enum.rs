//! `code_enum!`: a closed list of choices, each with the stable code stored in the database and
//! the Japanese label users see. One definition for every such list in the domain.

/// A closed list made by `code_enum!`, for code that handles any of them (e.g. a `<select>`).
pub trait CodeEnum: Copy + 'static {
    /// Every choice, in the order shown.
    fn all() -> &'static [Self];
    /// The stable code stored in the database.
    fn code(self) -> &'static str;
    /// The Japanese label users see.
    fn label(self) -> &'static str;
}

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable code stored in the database.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            /// The Japanese label users see.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl $crate::code_enum::CodeEnum for $name {
            fn all() -> &'static [Self] {
                $name::ALL
            }

            fn code(self) -> &'static str {
                $name::code(self)
            }

            fn label(self) -> &'static str {
                $name::label(self)
            }
        }
    };
}

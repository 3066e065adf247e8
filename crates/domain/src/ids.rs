//! Typed ids: one newtype per kind of stored thing, so a room's id cannot be passed where an
//! account's is expected, and an id that came from a request has been checked before any query.
//!
//! Every id is the canonical text of a UUID as stored (UUIDv7, lower-case, hyphenated:
//! `0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f`). [`Id::parse`] accepts exactly that form and nothing
//! else (no upper case, no braces, no `urn:uuid:`, no simple form), so a path parameter that is
//! not a well-formed id is refused before the store is asked; [`Id::from_stored`] wraps a value
//! read back from the database, which is trusted as written. New ids are made by the store
//! (`renraku_store::new_id`).

use std::fmt;

/// What every typed id can do; implemented by [`typed_id!`] for each id type.
pub trait Id: Sized + Clone + fmt::Display + Eq + Ord + std::hash::Hash {
    /// The id in `text`, when `text` is a UUID in its canonical form (lower-case, hyphenated);
    /// `None` for anything else. For ids that come from outside (a path, a form).
    fn parse(text: &str) -> Option<Self>;
    /// Wraps an id read from the database (or just made by the store). Trusted, not checked:
    /// only for values the store itself wrote.
    fn from_stored(text: String) -> Self;
    fn as_str(&self) -> &str;
}

/// Whether `text` is a UUID written the way Renraku stores ids: 36 characters, lower-case hex
/// in groups of 8-4-4-4-12 separated by hyphens.
pub fn is_canonical_uuid(text: &str) -> bool {
    match uuid::Uuid::try_parse(text) {
        Ok(u) => {
            let mut buf = uuid::Uuid::encode_buffer();
            u.hyphenated().encode_lower(&mut buf) == text
        }
        Err(_) => false,
    }
}

/// A path or form value that is not a well-formed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed id")]
pub struct InvalidId;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id in `text` if it is a canonical UUID (see [`Id::parse`]).
            pub fn parse(text: &str) -> Option<Self> {
                is_canonical_uuid(text).then(|| Self(text.to_string()))
            }

            /// Wraps an id read from the database: trusted, not checked (see [`Id::from_stored`]).
            pub fn from_stored(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Id for $name {
            fn parse(text: &str) -> Option<Self> {
                $name::parse(text)
            }

            fn from_stored(text: String) -> Self {
                $name::from_stored(text)
            }

            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, InvalidId> {
                $name::parse(text).ok_or(InvalidId)
            }
        }

        /// Read as its text where text is wanted (a bound SQL parameter, a chain name, a URL);
        /// the other way round, text becomes an id only through `parse` or `from_stored`.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

typed_id! {
    /// A municipality (市区町村).
    MunicipalityId;
    /// A 医療機関・介護事業所.
    FacilityId;
    /// A person's role in one municipality (or the operator's).
    AccountId;
    /// The person who signs in.
    IdentityId;
    /// 利用対象者.
    PatientId;
    /// A patient's 同意書.
    ConsentId;
    /// A room (連絡帳).
    RoomId;
    /// One membership period of an account in a room.
    MembershipId;
    /// A post or reply.
    PostId;
    /// A post's photo or PDF.
    AttachmentId;
    /// A member's request to change a room.
    RequestId;
    /// A care-plan transmission set.
    CareplanSetId;
    /// A signed-in browser's session (not its cookie: the cookie is stored only as a hash).
    SessionId;
    /// A job of the durable queue.
    JobId;
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f";

    #[test]
    fn parse_accepts_the_canonical_form_only() {
        let id = RoomId::parse(GOOD).map(|id| id.as_str().to_string());
        assert_eq!(id.as_deref(), Some(GOOD));
        assert_eq!(GOOD.parse::<PostId>().map(|id| id.to_string()), Ok(GOOD.to_string()));
        for wrong in [
            "",
            "0193C7A2-5B1E-7C3D-9F00-1A2B3C4D5E6F",
            "{0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f}",
            "urn:uuid:0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f",
            "0193c7a25b1e7c3d9f001a2b3c4d5e6f",
            "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6",
            "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f0",
            "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6g",
            "zzzz",
            "not-a-uuid",
            "1' OR 1=1",
            " 0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f",
            "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f ",
        ] {
            assert_eq!(RoomId::parse(wrong), None, "{wrong:?}");
            assert_eq!(wrong.parse::<AccountId>(), Err(InvalidId), "{wrong:?}");
        }
    }

    #[test]
    fn stored_ids_are_taken_as_they_are_and_shown_as_stored() {
        let id = FacilityId::from_stored(GOOD.to_string());
        assert_eq!(id.to_string(), GOOD);
        assert_eq!(id.as_str(), GOOD);
        assert_eq!(Some(id), FacilityId::parse(GOOD));
    }

    #[test]
    fn ids_order_as_their_text_so_uuidv7_ids_order_by_time() {
        let earlier = PostId::parse("0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f");
        let later = PostId::parse("0193c7a3-0000-7000-8000-000000000000");
        assert!(earlier < later);
    }
}

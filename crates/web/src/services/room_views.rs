//! One `room.read` audit entry per page view: an open room page fetches itself again on every
//! live update, and those refreshes continue the view already recorded instead of each adding an
//! entry. A refresh counts as one only when this session's view of the room was recorded in this
//! process within [`RecentViews::WINDOW_MS`]; otherwise — another instance, a restart, or a
//! refresh header sent without a view — it is recorded as a view like any other.

use std::collections::HashMap;
use std::sync::Mutex;

use renraku_domain::ids::{RoomId, SessionId};

/// Views recorded lately, per session and room.
#[derive(Debug, Default)]
pub struct RecentViews {
    seen: Mutex<HashMap<(SessionId, RoomId), i64>>,
}

impl RecentViews {
    /// How long a recorded view covers the page's refreshes.
    pub const WINDOW_MS: i64 = 60 * 60 * 1000;
    /// Entries kept before the old ones are dropped.
    const MAX_ENTRIES: usize = 20_000;

    /// A view of `room` by `session` was recorded at `now_ms`.
    pub fn recorded(&self, session: &SessionId, room: &RoomId, now_ms: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= Self::MAX_ENTRIES {
            seen.retain(|_, at| now_ms - *at < Self::WINDOW_MS);
            if seen.len() >= Self::MAX_ENTRIES {
                seen.clear();
            }
        }
        seen.insert((session.clone(), room.clone()), now_ms);
    }

    /// Whether a refresh at `now_ms` continues a view recorded lately.
    pub fn continues(&self, session: &SessionId, room: &RoomId, now_ms: i64) -> bool {
        let seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.get(&(session.clone(), room.clone())).is_some_and(|at| now_ms - *at < Self::WINDOW_MS)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const S: &str = "0190a0b0-0000-7000-8000-000000000001";
    const R: &str = "0190a0b0-0000-7000-8000-000000000002";
    const OTHER: &str = "0190a0b0-0000-7000-8000-000000000003";

    #[test]
    fn a_refresh_continues_only_a_recent_view_of_the_same_session_and_room() {
        let views = RecentViews::default();
        let (s, r, other) =
            (SessionId::parse(S).unwrap(), RoomId::parse(R).unwrap(), RoomId::parse(OTHER).unwrap());
        assert!(!views.continues(&s, &r, 1_000), "no view recorded yet");
        views.recorded(&s, &r, 1_000);
        assert!(views.continues(&s, &r, 1_000 + RecentViews::WINDOW_MS - 1));
        assert!(!views.continues(&s, &r, 1_000 + RecentViews::WINDOW_MS), "too long ago");
        assert!(!views.continues(&s, &other, 2_000), "another room");
        let other_session = SessionId::parse(OTHER).unwrap();
        assert!(!views.continues(&other_session, &r, 2_000), "another session");
    }
}

//! A store whose answer to one write is lost — what the web server sees when PostgreSQL goes
//! away at COMMIT, or the connection drops before the answer comes back. The real store (SQLite
//! or PostgreSQL) is the one the server uses; the test arms a [`CommitFault`] on it for the next
//! write of one kind, so nothing has to stand between the server and the store.

use renraku_store::{CommitFault, CommitFaults};

use crate::helpers::{Raw, TestApp};

fn faults(app: &TestApp) -> &CommitFaults {
    match &app.raw {
        Raw::Sqlite(store) => store.faults(),
        Raw::Postgres(store) => store.faults(),
    }
}

/// The next post is written, then fails as if the connection went away after COMMIT.
pub fn lose_the_next_post_answer(app: &TestApp) {
    faults(app).arm("post.create", CommitFault::AfterCommit);
}

/// The next post fails the same way without being written (gone before COMMIT).
pub fn lose_the_next_post_unwritten(app: &TestApp) {
    faults(app).arm("post.create", CommitFault::BeforeCommit);
}

/// The next write recorded as `action` fails without being written (gone before COMMIT).
pub fn lose_the_next_unwritten(app: &TestApp, action: &str) {
    faults(app).arm(action, CommitFault::BeforeCommit);
}

//! Black-box tests: the real server over HTTP, on SQLite and on PostgreSQL. One test binary
//! (each `tests/*.rs` would link its own, which is slow on two cores).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod admin;
mod audit;
mod bad_input;
mod browser;
mod careplan;
mod fault;
mod ids;
mod jobs;
mod ops;
mod posting;
mod room_access;
mod room_list;
mod rooms;
mod sign_in;
mod typed_text;
mod vitals;

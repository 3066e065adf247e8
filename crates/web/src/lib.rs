//! Renraku's web server: the only crate that knows HTTP and HTML. Handlers parse input into
//! domain values, call the [`Store`] (or, for a workflow, one use case in `services`), and
//! render askama templates; they never see SQL.
//!
//! A request passes, in order: the body limit, [`csrf::guard`] (which also parses and checks
//! form bodies), [`auth::load_session`] (which finds the signed-in person, if any), then the
//! route's handler, whose extractors ([`auth::SignedIn`], [`auth::Admin`], [`auth::Operator`])
//! decide who may use it (a room's handlers take `routes::rooms::InRoom`, which also proves
//! membership of the room in the path). [`App::build`] assembles it all, for the server, the
//! command line and the tests alike.

mod app;
pub mod audit_trail;
pub mod auth;
mod charts;
mod clock;
mod csrf;
pub mod directory;
mod error;
mod events;
pub mod forms;
pub mod jobs;
mod links;
mod metrics;
pub mod orphans;
mod path_ids;
mod routes;
mod secrets;
mod server;
pub mod services;
mod uploads;
mod views;
mod writer_probe;

use std::sync::Arc;

use renraku_store::Store;

pub use app::{App, AppParts, Background};
pub use clock::Clock;
pub use events::Events;
pub use links::{SETUP_LINK_VALIDITY_MS, issue_setup_link};
pub use secrets::Secrets;
pub use writer_probe::WriterProbe;

/// The largest form body accepted (files travel as multipart, with [`MAX_UPLOAD_BYTES`]). Room
/// enough for a post's longest text in any form that takes one (post, reply, edit): 10,000
/// characters of up to 4 bytes each, percent-encoded three times over.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The longest value of one text field, in bytes once decoded (in a form or a multipart post),
/// refused while the body is read and never shown back. Twice the longest post in Japanese, so
/// text a little over a field's limit comes back to be shortened instead.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The largest post with attachments (up to five files of 10 MB each, checked one by one).
pub const MAX_UPLOAD_BYTES: usize = 52 * 1024 * 1024;

/// How the server is reached and what it trusts.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address users type, e.g. `https://renraku.example.jp`. Links in pages and the
    /// setup/activation links are built from it; `https` turns on `Secure` cookies.
    pub public_base_url: url::Url,
    /// Take the client's address from `X-Forwarded-For` (only behind a reverse proxy that
    /// sets it; otherwise anyone could write any address into the audit trail).
    pub trust_forwarded_for: bool,
    /// The file the audit checkpoints are appended to, outside the database.
    pub audit_anchor_path: std::path::PathBuf,
}

impl WebConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.scheme() == "https"
    }

    /// An absolute link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_base_url.as_str().trim_end_matches('/'), path)
    }
}

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    pub secrets: Arc<Secrets>,
    pub clock: Clock,
    /// Live updates of open rooms.
    pub events: Events,
    /// Where attachment bytes are kept (encrypted).
    pub blobs: Arc<dyn renraku_attachments::blobs::BlobStore>,
    /// `/healthz`'s write probe, at most one every few seconds.
    pub writer_probe: Arc<WriterProbe>,
    /// Room views recorded lately, so a page's live refreshes are not each a new view.
    pub recent_views: Arc<services::room_views::RecentViews>,
}

pub use server::{HEADER_READ_TIMEOUT, SHUTDOWN_GRACE, serve, serve_metrics, serve_until};

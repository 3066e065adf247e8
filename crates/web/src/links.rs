//! One-time links: the operator's setup link and new accounts' activation links. Only the
//! SHA-256 of a link's secret is stored; the secret itself is shown once to whoever hands the
//! link over, never mailed together with a password.

use renraku_domain::audit_action::AuditAction;
use renraku_store::{AuditDraft, NewToken, StoreResult, TokenPurpose};

use crate::AppState;
use crate::secrets::{random_token, sha256_hex};

/// Setup and activation links are valid for 24 hours.
pub const SETUP_LINK_VALIDITY_MS: i64 = 24 * 3600 * 1000;

/// A fresh link secret and the token row that stands for it.
pub fn new_link(purpose: TokenPurpose, now_ms: i64) -> (String, NewToken) {
    let secret = random_token();
    let token = NewToken {
        hash: sha256_hex(secret.as_bytes()),
        purpose,
        identity_id: None,
        expires_at_ms: now_ms + SETUP_LINK_VALIDITY_MS,
    };
    (secret, token)
}

pub fn activation_url(state: &AppState, secret: &str) -> String {
    state.config.link(&format!("/activate/{secret}"))
}

/// If the server has no operator yet, makes a new setup link (the previous one stops
/// working) and returns it; the binary prints it at start-up.
pub async fn issue_setup_link(state: &AppState) -> StoreResult<Option<String>> {
    if state.store.operator_exists().await? {
        return Ok(None);
    }
    let now = state.clock.now_ms();
    let (secret, token) = new_link(TokenPurpose::Setup, now);
    let audit = AuditDraft {
        at_ms: now,
        actor_login: "system".into(),
        object_type: "server".into(),
        outcome: "ok".into(),
        ..AuditDraft::new(AuditAction::SetupLinkIssued)
    };
    state.store.create_token(&token, &audit).await?;
    Ok(Some(state.config.link(&format!("/setup/{secret}"))))
}

//! Creating accounts, shared by the admin screens and the command line: the account and its
//! activation link are made in one step, and the link is returned once to be handed over.

use renraku_store::{Account, AuditDraft, NewAccount, StoreResult, TokenPurpose};

use crate::AppState;
use crate::links::{activation_url, new_link};

/// Creates the account and returns it with its activation link (valid 24 hours).
pub async fn create_with_link(
    state: &AppState,
    new: &NewAccount,
    audit: &AuditDraft,
) -> StoreResult<(Account, String)> {
    let (secret, token) = new_link(TokenPurpose::Activation, audit.at_ms);
    let account = state.store.create_account(new, &token, audit).await?;
    Ok((account, activation_url(state, &secret)))
}

/// A new activation link for an account still waiting for activation (the old one may have
/// expired or been lost). The store retires every earlier link of the person.
pub async fn reissue_link(state: &AppState, account: &Account, audit: &AuditDraft) -> StoreResult<String> {
    let (secret, mut token) = new_link(TokenPurpose::Activation, audit.at_ms);
    token.identity_id = Some(account.identity_id.clone());
    state.store.create_token(&token, audit).await?;
    Ok(activation_url(state, &secret))
}

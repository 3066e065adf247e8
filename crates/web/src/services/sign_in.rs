//! Signing in and out (C1, C2, C4): login ID and password, then the TOTP code (or a recovery
//! code), with enrolment on first sign-in; ending sessions. Password failures are throttled per
//! login ID — existing or not — and per address, wrong codes per person (the second-factor lock),
//! each attempt counted before it is checked; every attempt goes to the audit trail, and every
//! session change commits with its audit entry.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::AccountStatus;
use renraku_domain::ids::{MunicipalityId, SessionId};
use renraku_domain::text::normalize;
use renraku_store::{Account, AuditDraft, MunicipalitySettings, NewSession, new_id};

use super::ServiceError;
use crate::auth::{
    self, ADDRESS_THROTTLE, Auth, LOGIN_THROTTLE, RequestMeta, SECOND_FACTOR_THROTTLE, password, totp,
};
use crate::error::AppError;
use crate::secrets::{random_token, sha256_hex};
use crate::{AppState, metrics};

/// The login ID as it is compared: NFKC, lower case.
pub fn login_key_of(typed: &str) -> String {
    normalize(typed).to_ascii_lowercase()
}

/// How a password sign-in ended.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Too many attempts for this login ID or from this address: nothing was checked.
    Locked,
    /// Wrong login ID or password; `now_locked` when this attempt locked the sign-in, else `left`
    /// more wrong passwords lock it.
    Wrong { now_locked: bool, left: i64 },
    /// The password could not be checked now (the server is busy); the attempt did not count.
    Busy,
    /// The password was right but the person's second factor is locked.
    SecondFactorLocked,
    /// A session was started, half-open until the second factor: its cookie token, and the
    /// page that comes next (the code, or enrolment).
    Started { token: String, next: &'static str },
}

fn login_audit(
    chain: Option<MunicipalityId>,
    login: &str,
    meta: &RequestMeta,
    now: i64,
    outcome: &str,
) -> AuditDraft {
    AuditDraft {
        municipality_id: chain,
        at_ms: now,
        actor_account_id: None,
        actor_login: login.chars().take(64).collect(),
        ip: meta.ip.clone(),
        action: AuditAction::AuthLogin,
        object_type: "session".into(),
        object_id: String::new(),
        outcome: outcome.into(),
        detail: String::new(),
    }
}

/// The first step: `login` (as compared, see [`login_key_of`]) and the password as typed.
pub async fn sign_in_with_password(
    state: &AppState,
    meta: &RequestMeta,
    login: &str,
    typed_password: &str,
) -> Result<PasswordOutcome, ServiceError> {
    let now = state.clock.now_ms();
    let (login_key, address_key) = (auth::login_key(login), format!("ip:{}", meta.ip));
    let identity = state.store.identity_by_login(login).await?;
    let account = match &identity {
        Some(i) => first_active(state.store.accounts_of_identity(&i.id).await?),
        None => None,
    };
    let chain = account.as_ref().and_then(|a| a.municipality_id.clone());

    // The attempt is counted before the password is checked, in the same step as the check of
    // the lock: of many parallel attempts, only as many as the lock allows are ever checked.
    let by_login = state.store.claim_attempt(&login_key, now, &LOGIN_THROTTLE).await?;
    let by_address = if by_login.allowed {
        let by_address = state.store.claim_attempt(&address_key, now, &ADDRESS_THROTTLE).await?;
        if !by_address.allowed {
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
        }
        by_address
    } else {
        by_login
    };
    if !by_address.allowed {
        state.store.append_audit(&login_audit(chain, login, meta, now, "locked")).await?;
        metrics::sign_in("locked");
        return Ok(PasswordOutcome::Locked);
    }

    let hash = identity.as_ref().and_then(|i| i.password_hash.clone());
    let password_ok = match password::verify(hash, typed_password).await {
        Ok(ok) => ok,
        Err(e) => {
            // Never checked (the server is busy): the attempt does not count.
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
            state.store.forgive_attempt(&address_key, &ADDRESS_THROTTLE).await?;
            return match unchecked(e) {
                ServiceError::Busy => {
                    metrics::sign_in("busy");
                    Ok(PasswordOutcome::Busy)
                }
                e => Err(e),
            };
        }
    };
    let (Some(identity), Some(account), true) = (identity, account, password_ok) else {
        let now_locked = by_login.throttle.is_locked(now) || by_address.throttle.is_locked(now);
        let mut audit = login_audit(chain, login, meta, now, "failure");
        audit.detail = "password".into();
        state.store.append_audit(&audit).await?;
        metrics::sign_in("failure");
        let left = (LOGIN_THROTTLE.max_failures - by_login.throttle.failures).max(0);
        return Ok(PasswordOutcome::Wrong { now_locked, left });
    };
    state.store.clear_failures(&login_key).await?;
    state.store.forgive_attempt(&address_key, &ADDRESS_THROTTLE).await?;

    // A right password does not lift a second-factor lock: say so now rather than after the
    // next wrong code.
    let factor_key = auth::second_factor_key(&identity.id);
    if identity.totp_secret.is_some() && state.store.throttle(&factor_key, now).await?.is_locked(now) {
        let mut audit = login_audit(chain, login, meta, now, "locked");
        audit.action = AuditAction::AuthSecondFactor;
        audit.actor_account_id = Some(account.id.clone());
        state.store.append_audit(&audit).await?;
        metrics::sign_in("locked");
        return Ok(PasswordOutcome::SecondFactorLocked);
    }

    let settings = match &account.municipality_id {
        Some(id) => state.store.municipality(id).await?.settings,
        None => MunicipalitySettings::default(),
    };
    let token = random_token();
    let session = NewSession {
        id: new_id(),
        token_hash: sha256_hex(token.as_bytes()),
        identity_id: identity.id.clone(),
        account_id: account.id.clone(),
        created_at_ms: now,
        idle_timeout_ms: settings.idle_timeout_secs * 1000,
        expires_at_ms: now + settings.absolute_timeout_secs * 1000,
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    };
    let mut audit = login_audit(account.municipality_id.clone(), login, meta, now, "ok");
    audit.action = AuditAction::AuthPassword;
    audit.actor_account_id = Some(account.id.clone());
    audit.object_id = session.id.to_string();
    audit.detail = "password".into();
    state.store.create_session(&session, &audit).await?;
    let next = if identity.totp_secret.is_some() { "/login/totp" } else { "/totp/enrol" };
    Ok(PasswordOutcome::Started { token, next })
}

/// A password check that did not happen.
fn unchecked(e: AppError) -> ServiceError {
    match e {
        AppError::Busy => ServiceError::Busy,
        AppError::Internal(e) => ServiceError::Internal(e),
        e => ServiceError::Internal(anyhow::anyhow!("password check: {e:?}")),
    }
}

fn first_active(accounts: Vec<Account>) -> Option<Account> {
    accounts.into_iter().find(|a| a.status == AccountStatus::Active)
}

/// How a second-factor code was taken.
#[derive(Debug, PartialEq, Eq)]
pub enum SecondFactorOutcome {
    /// The session is signed in.
    Accepted,
    /// Wrong (or used) code; `left` more wrong codes lock the second factor.
    Wrong { left: i64 },
    /// Locked: the half-open session has ended.
    Locked,
    /// The person has no second factor yet: enrolment comes first.
    NotEnrolled,
}

/// The second step: a TOTP `code`, or a `recovery_code` when one is given.
pub async fn check_second_factor(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    code: &str,
    recovery_code: &str,
) -> Result<SecondFactorOutcome, ServiceError> {
    let now = state.clock.now_ms();
    let Some(sealed) = &auth.identity.totp_secret else {
        return Ok(SecondFactorOutcome::NotEnrolled);
    };
    // Counted before the code is checked, apart from password failures.
    let factor_key = auth::second_factor_key(&auth.identity.id);
    let claim = state.store.claim_attempt(&factor_key, now, &SECOND_FACTOR_THROTTLE).await?;
    if !claim.allowed {
        return end_locked(state, meta, auth, now).await;
    }
    let accepted = if !recovery_code.is_empty() {
        let hash = totp::recovery_code_hash(&state.secrets.recovery_key, recovery_code);
        state.store.use_recovery_code(&auth.identity.id, &hash, now).await?
    } else {
        let secret = totp::open(&state.secrets.totp_key, sealed)
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("TOTP secret does not decrypt")))?;
        let t = totp::totp(&secret, auth.identity.login_id.as_str()).map_err(ServiceError::Internal)?;
        match totp::check(&t, code, now) {
            Some(step) => state.store.accept_totp_step(&auth.identity.id, step).await?,
            None => false,
        }
    };
    let how = if recovery_code.is_empty() { "totp" } else { "recovery_code" };
    if !accepted {
        let mut audit = auth.audit(meta, now, AuditAction::AuthSecondFactor, "session", &auth.session.id);
        audit.outcome = "failure".into();
        audit.detail = how.into();
        state.store.append_audit(&audit).await?;
        metrics::sign_in("failure");
        if claim.throttle.is_locked(now) {
            return end_locked(state, meta, auth, now).await;
        }
        return Ok(SecondFactorOutcome::Wrong {
            left: SECOND_FACTOR_THROTTLE.max_failures - claim.throttle.failures,
        });
    }
    let mut audit = auth.audit(meta, now, AuditAction::AuthLogin, "session", &auth.session.id);
    audit.detail = how.into();
    state.store.complete_second_factor(&auth.session.id, now, &audit).await?;
    state.store.clear_failures(&factor_key).await?;
    metrics::sign_in("success");
    Ok(SecondFactorOutcome::Accepted)
}

/// Too many wrong codes: the second factor is locked, the half-open session ends, and the
/// sign-in starts over after the lock (or once an admin releases it).
async fn end_locked(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    now: i64,
) -> Result<SecondFactorOutcome, ServiceError> {
    let mut audit = auth.audit(meta, now, AuditAction::AuthSecondFactor, "session", &auth.session.id);
    audit.outcome = "locked".into();
    if !state.store.revoke_session(&auth.identity.id, &auth.session.id, now, &audit).await? {
        // Ended already (by a parallel attempt): the lock is still worth recording.
        state.store.append_audit(&audit).await?;
    }
    metrics::sign_in("locked");
    Ok(SecondFactorOutcome::Locked)
}

/// How an enrolment ended.
#[derive(Debug)]
pub enum Enrolment {
    /// Enrolled and signed in: the recovery codes, shown once.
    Done { recovery_codes: Vec<String> },
    /// The secret being enrolled did not come back intact: start again.
    Lost,
    /// The code does not match the secret: the same secret, to show again.
    WrongCode { secret: Vec<u8> },
}

/// A new TOTP secret, sealed to travel in the enrolment page: nothing half-done is stored.
pub fn pending_secret(state: &AppState, secret: &[u8]) -> Result<String, ServiceError> {
    Ok(URL_SAFE_NO_PAD.encode(totp::seal(&state.secrets.totp_key, secret).map_err(ServiceError::Internal)?))
}

/// First sign-in: the secret `pending` (as [`pending_secret`] sealed it) with its first `code`.
pub async fn enrol_second_factor(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    pending: &str,
    code: &str,
) -> Result<Enrolment, ServiceError> {
    let now = state.clock.now_ms();
    let Some(secret) =
        URL_SAFE_NO_PAD.decode(pending).ok().and_then(|sealed| totp::open(&state.secrets.totp_key, &sealed))
    else {
        return Ok(Enrolment::Lost);
    };
    let t = totp::totp(&secret, auth.identity.login_id.as_str()).map_err(ServiceError::Internal)?;
    let Some(step) = totp::check(&t, code, now) else {
        return Ok(Enrolment::WrongCode { secret });
    };
    let recovery_codes = totp::new_recovery_codes();
    let hashes: Vec<String> =
        recovery_codes.iter().map(|c| totp::recovery_code_hash(&state.secrets.recovery_key, c)).collect();
    let sealed = totp::seal(&state.secrets.totp_key, &secret).map_err(ServiceError::Internal)?;
    let audit = auth.audit(meta, now, AuditAction::AuthTotpEnrolled, "identity", &auth.identity.id);
    state.store.set_second_factor(&auth.identity.id, Some(&sealed), &hashes, &audit).await?;
    state.store.accept_totp_step(&auth.identity.id, step).await?;
    let mut login = auth.audit(meta, now, AuditAction::AuthLogin, "session", &auth.session.id);
    login.detail = "totp_enrolment".into();
    state.store.complete_second_factor(&auth.session.id, now, &login).await?;
    metrics::sign_in("success");
    Ok(Enrolment::Done { recovery_codes })
}

/// Signing out: this session ends.
pub async fn sign_out(state: &AppState, meta: &RequestMeta, auth: &Auth) -> Result<(), ServiceError> {
    let now = state.clock.now_ms();
    let audit = auth.audit(meta, now, AuditAction::AuthLogout, "session", &auth.session.id);
    state.store.revoke_session(&auth.identity.id, &auth.session.id, now, &audit).await?;
    Ok(())
}

/// Ends one of the person's own sessions (a device listed on the account page).
pub async fn end_session(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    id: &SessionId,
) -> Result<(), ServiceError> {
    let now = state.clock.now_ms();
    let audit = auth.audit(meta, now, AuditAction::AuthSessionRevoked, "session", id);
    if !state.store.revoke_session(&auth.identity.id, id, now, &audit).await? {
        return Err(ServiceError::NotFound("ログイン中の端末"));
    }
    Ok(())
}

/// Ends every session of the person but this one.
pub async fn end_other_sessions(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
) -> Result<u64, ServiceError> {
    let now = state.clock.now_ms();
    let audit = auth.audit(meta, now, AuditAction::AuthSessionsRevoked, "identity", &auth.identity.id);
    Ok(state.store.revoke_sessions(&auth.identity.id, Some(&auth.session.id), now, &audit).await?)
}

/// The signed-in person's current password, as checked before a change.
#[derive(Debug, PartialEq, Eq)]
pub enum CurrentPassword {
    Right,
    Wrong,
    /// Too many wrong passwords (here or at sign-in): not checked.
    Locked,
}

/// Checks the current password before a change. Someone holding a stolen session must not be
/// able to guess it here either: the check counts against the same lock as sign-in, before the
/// password is checked; a wrong or locked attempt is audited.
pub async fn check_current_password(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    typed: &str,
) -> Result<CurrentPassword, ServiceError> {
    let now = state.clock.now_ms();
    let login_key = auth::login_key(auth.identity.login_id.as_str());
    let refused = async |outcome: &str, detail: &str| {
        let mut audit =
            auth.audit(meta, now, AuditAction::AuthPasswordChanged, "identity", &auth.identity.id);
        audit.outcome = outcome.into();
        audit.detail = detail.into();
        state.store.append_audit(&audit).await
    };
    if !state.store.claim_attempt(&login_key, now, &LOGIN_THROTTLE).await?.allowed {
        refused("locked", "").await?;
        return Ok(CurrentPassword::Locked);
    }
    let right = match password::verify(auth.identity.password_hash.clone(), typed).await {
        Ok(right) => right,
        Err(e) => {
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
            return Err(unchecked(e));
        }
    };
    if right {
        state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
        Ok(CurrentPassword::Right)
    } else {
        refused("failure", "current_password").await?;
        Ok(CurrentPassword::Wrong)
    }
}

/// Sets `new` (checked against the policy by the caller) as the password; every other session
/// of the person ends in the same transaction.
pub async fn change_password(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    new: &str,
) -> Result<(), ServiceError> {
    let hash = password::hash(new).await.map_err(unchecked)?;
    let now = state.clock.now_ms();
    let audit = auth.audit(meta, now, AuditAction::AuthPasswordChanged, "identity", &auth.identity.id);
    state.store.set_password(&auth.identity.id, &hash, now, &auth.session.id, &audit).await?;
    Ok(())
}

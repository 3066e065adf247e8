//! Signing-in stories: the throttle, sessions, TOTP steps and recovery codes.

use super::*;

pub async fn failures_lock_a_key_for_a_while(store: &dyn Store) {
    let policy = ThrottlePolicy { max_failures: 3, window_ms: 60_000, lock_ms: 300_000 };
    for i in 0..2 {
        let a = ok(store.claim_attempt("login:ghost", T0 + i, &policy).await);
        assert!(a.allowed && !a.throttle.is_locked(T0 + i));
    }
    // The third attempt is still checked, and its count locks the key.
    let a = ok(store.claim_attempt("login:ghost", T0 + 2, &policy).await);
    assert!(a.allowed && a.throttle.is_locked(T0 + 2));
    let refused = ok(store.claim_attempt("login:ghost", T0 + 3, &policy).await);
    assert!(!refused.allowed && refused.throttle.is_locked(T0 + 3));
    assert!(ok(store.throttle("login:ghost", T0 + 299_000).await).is_locked(T0 + 299_000));
    assert!(!ok(store.throttle("login:ghost", T0 + 302_001).await).is_locked(T0 + 302_001));
    // After the lock, a new count starts.
    let a = ok(store.claim_attempt("login:ghost", T0 + 302_001, &policy).await);
    assert_eq!((a.allowed, a.throttle.failures, a.throttle.locked_until_ms), (true, 1, None));
    // Failures far apart never add up to a lock.
    for i in 0..5 {
        let at = T0 + 1_000_000 + i * 61_000;
        assert!(!ok(store.claim_attempt("login:slow", at, &policy).await).throttle.is_locked(at));
    }
    // An attempt that turned out right is taken back, and with it the lock only it caused.
    ok(store.claim_attempt("login:right", T0, &policy).await);
    ok(store.claim_attempt("login:right", T0, &policy).await);
    assert!(ok(store.claim_attempt("login:right", T0, &policy).await).throttle.is_locked(T0));
    ok(store.forgive_attempt("login:right", &policy).await);
    let t = ok(store.throttle("login:right", T0).await);
    assert_eq!((t.failures, t.is_locked(T0)), (2, false));
    ok(store.clear_failures("login:ghost").await);
    assert_eq!(ok(store.throttle("login:ghost", T0).await), Throttle::default());
}

/// "Check the lock, verify, record the failure" must not let parallel attempts through: the
/// check and the count are one step, so exactly `max_failures` of many simultaneous attempts
/// are allowed to be checked.
pub async fn parallel_attempts_cannot_pass_a_lock(store: &dyn Store) {
    let policy = ThrottlePolicy { max_failures: 5, window_ms: 900_000, lock_ms: 900_000 };
    let attempts = (0..20).map(|_| store.claim_attempt("login:target", T0, &policy));
    let results: Vec<Attempt> = futures_util::future::join_all(attempts).await.into_iter().map(ok).collect();
    assert_eq!(results.iter().filter(|a| a.allowed).count(), 5, "{results:?}");
    assert!(ok(store.throttle("login:target", T0 + 1).await).is_locked(T0 + 1));
}

pub async fn sign_in_locks_are_listed_and_released_with_an_audit_entry(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let other = municipality(store, "122173").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let b = member(store, "nurse02", &m.id, None, false).await;
    let c = member(store, "nurse03", &other.id, None, false).await;
    let policy = ThrottlePolicy { max_failures: 1, window_ms: 900_000, lock_ms: 900_000 };
    for key in [
        format!("second_factor:{}", a.identity_id),
        "login:nurse02".to_string(),
        format!("second_factor:{}", c.identity_id),
    ] {
        ok(store.claim_attempt(&key, T0, &policy).await);
    }
    let locks = ok(store.sign_in_locks(&m.id, T0 + 1).await);
    assert_eq!(locks.len(), 2, "{locks:?}");
    assert!(locks.iter().any(|l| l.account_id == a.id && l.second_factor));
    assert!(locks.iter().any(|l| l.account_id == b.id && !l.second_factor));
    assert!(locks.iter().all(|l| l.locked_until_ms == T0 + 900_000));
    // Locks that ran out are not listed.
    assert!(ok(store.sign_in_locks(&m.id, T0 + 900_000).await).is_empty());
    let before = ok(store.audit_chain(&m.id).await).len();
    ok(store.release_sign_in_locks(&a.identity_id, &audit(Some(&m.id), AuditAction::AccountUnlock)).await);
    let locks = ok(store.sign_in_locks(&m.id, T0 + 1).await);
    assert_eq!(locks.iter().map(|l| l.account_id.as_str()).collect::<Vec<_>>(), [b.id.as_str()]);
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 1);
    ok(store.release_sign_in_locks(&b.identity_id, &audit(Some(&m.id), AuditAction::AccountUnlock)).await);
    assert!(ok(store.sign_in_locks(&m.id, T0 + 1).await).is_empty());
    // Another municipality's lock is untouched.
    assert_eq!(ok(store.sign_in_locks(&other.id, T0 + 1).await).len(), 1);
}

pub async fn sessions_expire_when_idle_and_can_be_revoked(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let new = |id: &str| NewSession {
        id: sid(id),
        token_hash: format!("hash-{id}"),
        identity_id: a.identity_id.clone(),
        account_id: a.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    };
    let entries = async || ok(store.audit_chain(&m.id).await);
    let before = entries().await.len();
    for id in ["s1", "s2", "s3"] {
        ok(store.create_session(&new(id), &audit(Some(&m.id), AuditAction::AuthPassword)).await);
    }
    let s = ok(store.session("hash-s1", T0 + 1).await).map(|s| s.second_factor_done);
    assert_eq!(s, Some(false));
    ok(store
        .complete_second_factor(&sid("s1"), T0 + 1_000, &audit(Some(&m.id), AuditAction::AuthLogin))
        .await);
    // Each step of a sign-in commits with its audit entry.
    assert_eq!(entries().await.len(), before + 4);
    assert_eq!(ok(store.session("hash-s1", T0 + 2_000).await).map(|s| s.second_factor_done), Some(true));
    // Idle for 30 minutes: gone. Touched in time: alive until the absolute limit.
    assert_eq!(ok(store.session("hash-s2", T0 + 1_800_001).await), None);
    for minute in 1..=24u8 {
        let at = T0 + i64::from(minute) * 1_500_000;
        assert!(ok(store.session("hash-s1", at).await).is_some(), "minute {minute}");
        ok(store.touch_session(&sid("s1"), at).await);
    }
    assert_eq!(ok(store.session("hash-s1", T0 + 43_200_000).await), None);
    assert_eq!(ok(store.sessions_of_identity(&a.identity_id, T0 + 10).await).len(), 3);
    let revoked = audit(Some(&m.id), AuditAction::AuthSessionRevoked);
    assert!(ok(store.revoke_session(&a.identity_id, &sid("s3"), T0 + 20, &revoked).await));
    // Someone else's session: nothing revoked, nothing recorded.
    assert!(!ok(store
        .revoke_session(&IdentityId::from_stored("someone-else".into()), &sid("s2"), T0 + 20, &revoked)
        .await));
    assert_eq!(entries().await.len(), before + 5);
    assert_eq!(ok(store.session("hash-s3", T0 + 30).await), None);
    let others = audit(Some(&m.id), AuditAction::AuthSessionsRevoked);
    assert_eq!(ok(store.revoke_sessions(&a.identity_id, Some(&sid("s1")), T0 + 40, &others).await), 1);
    let last = entries().await.pop().map(|e| e.facts.detail);
    assert_eq!(last.as_deref(), Some("count=1"));
    assert!(ok(store.session("hash-s1", T0 + 50).await).is_some());
    assert_eq!(ok(store.session("hash-s2", T0 + 50).await), None);
}

/// A new password signs the person out everywhere but where they changed it, in the same
/// transaction as the change: no session opened with the old password outlives it.
pub async fn a_new_password_ends_every_other_session(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let b = member(store, "nurse02", &m.id, None, false).await;
    let new = |id: &str, who: &Account| NewSession {
        id: sid(id),
        token_hash: format!("hash-{id}"),
        identity_id: who.identity_id.clone(),
        account_id: who.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    };
    for (id, who) in [("here", &a), ("phone", &a), ("pc", &a), ("theirs", &b)] {
        ok(store.create_session(&new(id, who), &audit(Some(&m.id), AuditAction::AuthPassword)).await);
    }
    let changed = audit(Some(&m.id), AuditAction::AuthPasswordChanged);
    ok(store.set_password(&a.identity_id, "$argon2id$new", T0 + 10, "here", &changed).await);
    assert!(ok(store.session("hash-here", T0 + 20).await).is_some());
    assert_eq!(ok(store.session("hash-phone", T0 + 20).await), None);
    assert_eq!(ok(store.session("hash-pc", T0 + 20).await), None);
    assert!(ok(store.session("hash-theirs", T0 + 20).await).is_some(), "another person's session");
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$new"));
}

/// Every signed-in request reads its session, account, identity and municipality: one query
/// gives the four exactly as the four separate reads do, and nothing for a session that is not
/// live.
pub async fn a_request_loads_its_session_with_account_identity_and_municipality_at_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(
            &m.id,
            &sample_facility("さくら訪問看護"),
            &audit(Some(&m.id), AuditAction::FacilityCreate),
        )
        .await);
    let a = member(store, "nurse01", &m.id, Some(&f.id), true).await;
    ok(store
        .activate("t-nurse01", "$argon2id$x", T0, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await);
    let session = NewSession {
        id: sid("s1"),
        token_hash: "hash-s1".into(),
        identity_id: a.identity_id.clone(),
        account_id: a.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    };
    ok(store.create_session(&session, &audit(Some(&m.id), AuditAction::AuthPassword)).await);
    let context =
        ok(store.session_context("hash-s1", T0 + 1).await).unwrap_or_else(|| panic!("a live session"));
    assert_eq!(Some(&context.session), ok(store.session("hash-s1", T0 + 1).await).as_ref());
    assert_eq!(context.account, ok(store.account(&a.id).await));
    assert_eq!(context.identity, ok(store.identity(&a.identity_id).await));
    assert_eq!(context.municipality, Some(ok(store.municipality(&m.id).await)));
    assert!(context.identity.password_hash.is_some());
    // Not live: unknown, idle too long, revoked.
    assert_eq!(ok(store.session_context("hash-unknown", T0 + 1).await), None);
    assert_eq!(ok(store.session_context("hash-s1", T0 + 1_800_001).await), None);
    assert!(ok(store
        .revoke_session(&a.identity_id, &sid("s1"), T0 + 2, &audit(Some(&m.id), AuditAction::AuthLogout))
        .await));
    assert_eq!(ok(store.session_context("hash-s1", T0 + 3).await), None);
    // The operator has no municipality.
    ok(store
        .create_token(&token("setup", TokenPurpose::Setup), &audit(None, AuditAction::SetupLinkIssued))
        .await);
    let operator = NewAccount {
        role: Role::Operator,
        municipality_id: None,
        ..sample_member("operator", &MunicipalityId::from_stored(String::new()), None, false)
    };
    let op = ok(store
        .complete_setup(
            "setup",
            &operator,
            "$argon2id$x",
            T0,
            &audit(None, AuditAction::SetupOperatorCreated),
        )
        .await);
    ok(store
        .create_session(
            &NewSession {
                id: sid("s2"),
                token_hash: "hash-s2".into(),
                identity_id: op.identity_id.clone(),
                account_id: op.id.clone(),
                ..session
            },
            &audit(None, AuditAction::AuthPassword),
        )
        .await);
    let context = ok(store.session_context("hash-s2", T0 + 1).await)
        .unwrap_or_else(|| panic!("the operator's session"));
    assert_eq!(context.account, ok(store.account(&op.id).await));
    assert_eq!(context.municipality, None);
}

pub async fn a_totp_step_is_accepted_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    ok(store
        .set_second_factor(
            &a.identity_id,
            Some(b"sealed"),
            &[],
            &audit(Some(&m.id), AuditAction::AuthTotpEnrolled),
        )
        .await);
    assert_eq!(ok(store.identity(&a.identity_id).await).totp_secret.as_deref(), Some(&b"sealed"[..]));
    assert!(ok(store.accept_totp_step(&a.identity_id, 10).await));
    assert!(!ok(store.accept_totp_step(&a.identity_id, 10).await));
    assert!(!ok(store.accept_totp_step(&a.identity_id, 9).await));
    assert!(ok(store.accept_totp_step(&a.identity_id, 11).await));
}

pub async fn a_recovery_code_works_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let codes = vec!["h1".to_string(), "h2".to_string()];
    ok(store
        .set_second_factor(
            &a.identity_id,
            Some(b"s"),
            &codes,
            &audit(Some(&m.id), AuditAction::AuthTotpEnrolled),
        )
        .await);
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 2);
    assert!(ok(store.use_recovery_code(&a.identity_id, "h1", T0).await));
    assert!(!ok(store.use_recovery_code(&a.identity_id, "h1", T0).await));
    assert!(!ok(store.use_recovery_code(&a.identity_id, "nope", T0).await));
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 1);
    // Resetting the second factor removes the codes and signs the person out.
    let s = NewSession {
        id: sid("s"),
        token_hash: "h".into(),
        identity_id: a.identity_id.clone(),
        account_id: a.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: String::new(),
        user_agent: String::new(),
    };
    ok(store.create_session(&s, &audit(Some(&m.id), AuditAction::AuthPassword)).await);
    ok(store
        .set_second_factor(&a.identity_id, None, &[], &audit(Some(&m.id), AuditAction::UserResetSecondFactor))
        .await);
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 0);
    assert_eq!(ok(store.identity(&a.identity_id).await).totp_secret, None);
    assert_eq!(ok(store.session("h", T0 + 1).await), None);
}

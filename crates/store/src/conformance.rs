//! The conformance suite: stories every [`Store`] must tell the same way. Each backend crate
//! runs them with [`conformance_tests!`](crate::conformance_tests) on a fresh database per test
//! (atuin's `tests-database` pattern), so SQLite and PostgreSQL cannot drift apart.

use renraku_domain::audit::{AuditSealer, CHAIN_OPENED, CHAIN_OPENED_DETAIL, OPERATOR_CHAIN};
use renraku_domain::directory::*;
use renraku_domain::rooms::{CareLevel, Importance, PostCategory, PostText, Sex, Vitals};

use crate::*;

mod jobs;
pub use jobs::*;

/// The audit key the suite's stores must be opened with.
pub const TEST_AUDIT_KEY: &[u8] = b"conformance-suite-audit-key";

/// Generates one `#[tokio::test]` per story. `$open` is an async expression giving a fresh
/// store (and anything that must live as long as it) as `(Option<store>, guard)`; `None` skips
/// the story (the backend said why).
#[macro_export]
macro_rules! conformance_tests {
    ($open:expr) => {
        $crate::conformance_tests!(@each $open;
            municipality_codes_are_unique,
            facilities_are_scoped_to_their_municipality,
            an_activation_link_works_once,
            a_facility_keeps_its_last_manager,
            login_ids_are_unique_across_municipalities,
            failures_lock_a_key_for_a_while,
            parallel_attempts_cannot_pass_a_lock,
            sign_in_locks_are_listed_and_released_with_an_audit_entry,
            a_reissued_activation_link_retires_the_old_one,
            an_activation_link_never_acts_on_an_active_person,
            sessions_expire_when_idle_and_can_be_revoked,
            a_totp_step_is_accepted_once,
            a_recovery_code_works_once,
            the_setup_link_creates_one_operator,
            every_change_is_sealed_into_its_chain,
            a_room_is_opened_with_its_patient_and_consent,
            only_current_members_read_a_room,
            the_timeline_pages_newest_first_by_cursor,
            read_receipts_and_unread_counts,
            edits_keep_every_version_and_deletes_hide_the_text,
            withdrawn_consent_makes_the_room_read_only,
            acknowledgements_and_vitals,
            requests_to_invite_remove_and_close_wait_for_the_municipality,
            a_care_manager_may_invite_directly_when_the_municipality_allows,
            mentions_name_current_members_and_count_until_read,
            attachments_belong_to_their_post_and_room,
            a_form_sent_twice_writes_one_post,
            careplan_sets_go_from_sender_to_receiver_and_deletions_withdraw,
            a_deletion_withdraws_only_the_people_and_service_types_it_names,
            yobo_deletions_withdraw_their_own_sets,
            a_care_provider_number_is_held_by_one_facility_on_the_server,
            an_idempotency_key_names_one_unfinished_job,
            two_claimers_never_get_the_same_job,
            claims_take_due_jobs_of_the_asked_kinds,
            a_job_whose_lease_ran_out_is_claimed_again,
            failures_back_off_then_the_job_is_dead,
        );
    };
    (@each $open:expr; $($story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                let (store, _guard) = $open.await;
                if let Some(store) = store {
                    $crate::conformance::$story(&store).await;
                }
            }
        )*
    };
}

const T0: i64 = 1_795_000_000_000;

fn audit(municipality_id: Option<&str>, action: &str) -> AuditDraft {
    AuditDraft {
        municipality_id: municipality_id.map(str::to_string),
        at_ms: T0,
        actor_login: "tester".into(),
        ip: "127.0.0.1".into(),
        action: action.into(),
        object_type: "test".into(),
        outcome: "ok".into(),
        ..AuditDraft::default()
    }
}

/// The audit entry of a room read at `at_ms`.
fn read_at(m: &Municipality, at_ms: i64) -> AuditDraft {
    AuditDraft { at_ms, ..audit(Some(&m.id), "room.read") }
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

async fn municipality(store: &dyn Store, code: &str) -> Municipality {
    let new = NewMunicipality {
        code: ok(MunicipalityCode::parse("code", code)),
        name: ok(Name::parse("name", "流山市")),
        settings: MunicipalitySettings::default(),
    };
    ok(store.create_municipality(&new, &audit(None, "municipality.create")).await)
}

/// A facility as a test fixture, filled as 様式1 would be.
pub fn sample_facility(name: &str) -> FacilityInfo {
    FacilityInfo {
        corporation: Corporation {
            name: ok(Name::parse("c", "医療法人さくら会")),
            kana: ok(KanaName::parse("c", "いりょうほうじんさくらかい")),
            representative: ok(Name::parse("c", "桜 太郎")),
            postal_code: ok(PostalCode::parse("c", "270-0192")),
            address: ok(Name::parse("c", "千葉県流山市平和台1-1-1")),
            phone: ok(PhoneNumber::parse("c", "04-7158-1111")),
        },
        name: ok(Name::parse("n", name)),
        kana: ok(KanaName::parse("k", "さくらほうもんかんごすてーしょん")),
        postal_code: ok(PostalCode::parse("p", "270-0192")),
        address: ok(Name::parse("a", "千葉県流山市平和台1-1-1")),
        phone: ok(PhoneNumber::parse("t", "04-7158-2222")),
        email: Some(ok(Email::parse("e", "sakura@example.jp"))),
        service_category: ServiceCategory::HomeNursing,
        medical_institution_no: None,
        care_provider_no: Some(ok(FacilityNumber::parse("n", "1234567890"))),
        administrator: ok(Name::parse("m", "桜 花子")),
    }
}

/// A member account for `facility` as a test fixture.
pub fn sample_member(
    login: &str,
    municipality_id: &str,
    facility_id: Option<&str>,
    manager: bool,
) -> NewAccount {
    NewAccount {
        login_id: ok(LoginId::parse("l", login)),
        municipality_id: Some(municipality_id.to_string()),
        facility_id: facility_id.map(str::to_string),
        role: Role::Member,
        profile: Profile {
            name: ok(Name::parse("n", "看護 一郎")),
            kana: ok(KanaName::parse("k", "かんご いちろう")),
            profession: ok(Profession::parse("o", "oo", "nurse", "")),
            email: None,
            phone: None,
        },
        is_manager: manager,
        careplan: false,
    }
}

fn token(hash: &str, purpose: TokenPurpose) -> NewToken {
    NewToken { hash: hash.into(), purpose, identity_id: None, expires_at_ms: T0 + 86_400_000 }
}

async fn member(store: &dyn Store, login: &str, m: &str, f: Option<&str>, manager: bool) -> Account {
    let new = sample_member(login, m, f, manager);
    ok(store
        .create_account(
            &new,
            &token(&format!("t-{login}"), TokenPurpose::Activation),
            &audit(Some(m), "user.create"),
        )
        .await)
}

pub async fn municipality_codes_are_unique(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    assert_eq!(ok(store.municipality_by_code("122203").await), m);
    assert_eq!(ok(store.municipality(&m.id).await).name.as_str(), "流山市");
    let again = NewMunicipality { code: m.code.clone(), name: m.name.clone(), settings: m.settings };
    let err = store.create_municipality(&again, &audit(None, "municipality.create")).await;
    assert!(matches!(err, Err(StoreError::Taken("code"))), "{err:?}");
    assert!(matches!(store.municipality_by_code("999999").await, Err(StoreError::NotFound)));
    let mut settings = m.settings;
    settings.password_policy.max_age_days = Some(30);
    settings.idle_timeout_secs = 600;
    ok(store.update_municipality_settings(&m.id, &settings, &audit(Some(&m.id), "settings.update")).await);
    assert_eq!(ok(store.municipality(&m.id).await).settings, settings);
    assert_eq!(ok(store.municipalities().await).len(), 1);
}

pub async fn facilities_are_scoped_to_their_municipality(store: &dyn Store) {
    let a = municipality(store, "122203").await;
    let b = municipality(store, "122173").await;
    let info = sample_facility("さくら訪問看護ステーション");
    let f = ok(store.create_facility(&a.id, &info, &audit(Some(&a.id), "facility.create")).await);
    assert_eq!(f.info, info);
    assert_eq!(f.active_managers, 0);
    assert_eq!(ok(store.facilities(&a.id).await), vec![f.clone()]);
    assert!(ok(store.facilities(&b.id).await).is_empty());
    assert!(matches!(store.facility(&b.id, &f.id).await, Err(StoreError::NotFound)));
    let mut changed = info.clone();
    changed.name = ok(Name::parse("n", "さくら訪問看護ステーション南"));
    changed.email = None;
    ok(store.update_facility(&a.id, &f.id, &changed, &audit(Some(&a.id), "facility.update")).await);
    assert_eq!(ok(store.facility(&a.id, &f.id).await).info, changed);
    let other = store.update_facility(&b.id, &f.id, &info, &audit(Some(&b.id), "facility.update")).await;
    assert!(matches!(other, Err(StoreError::NotFound)));
    // A member cannot be put in another municipality's facility.
    let new = sample_member("outsider", &b.id, Some(&f.id), true);
    let r = store
        .create_account(&new, &token("t-o", TokenPurpose::Activation), &audit(Some(&b.id), "user.create"))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

/// The care-plan exchange routes by 介護事業所番号 across municipalities, so no facility may
/// take a number another facility on the server holds: otherwise one municipality could block
/// (or receive) another's exchange by registering its number.
pub async fn a_care_provider_number_is_held_by_one_facility_on_the_server(store: &dyn Store) {
    let a = municipality(store, "122203").await;
    let b = municipality(store, "122173").await;
    let number = || Some(ok(FacilityNumber::parse("n", "1234567890")));
    let held = ok(store
        .create_facility(&a.id, &sample_facility("さくら"), &audit(Some(&a.id), "facility.create"))
        .await);
    let chain_before = ok(store.audit_chain(&b.id).await).len();
    let mut squatter = sample_facility("かしわ");
    let refused = store.create_facility(&b.id, &squatter, &audit(Some(&b.id), "facility.create")).await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    assert!(ok(store.facilities(&b.id).await).is_empty(), "nothing was written");
    assert_eq!(ok(store.audit_chain(&b.id).await).len(), chain_before, "nor audited as done");
    // Nor by changing a facility's number afterwards.
    squatter.care_provider_no = None;
    let other = ok(store.create_facility(&b.id, &squatter, &audit(Some(&b.id), "facility.create")).await);
    squatter.care_provider_no = number();
    let refused =
        store.update_facility(&b.id, &other.id, &squatter, &audit(Some(&b.id), "facility.update")).await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    assert_eq!(ok(store.facility(&b.id, &other.id).await).info.care_provider_no, None);
    // Within one municipality too.
    let refused = store
        .create_facility(&a.id, &sample_facility("もみじ"), &audit(Some(&a.id), "facility.create"))
        .await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    // The holder keeps its number through other changes.
    let mut renamed = held.info.clone();
    renamed.name = ok(Name::parse("n", "さくら南"));
    ok(store.update_facility(&a.id, &held.id, &renamed, &audit(Some(&a.id), "facility.update")).await);
    let found = ok(store.facilities_by_care_provider_no("1234567890").await);
    assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [held.id.as_str()]);
    // Once the holder lets it go, the other facility may take it.
    renamed.care_provider_no = None;
    ok(store.update_facility(&a.id, &held.id, &renamed, &audit(Some(&a.id), "facility.update")).await);
    ok(store.update_facility(&b.id, &other.id, &squatter, &audit(Some(&b.id), "facility.update")).await);
    let found = ok(store.facilities_by_care_provider_no("1234567890").await);
    assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [other.id.as_str()]);
}

pub async fn an_activation_link_works_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), "facility.create"))
        .await);
    let a = member(store, "nurse01", &m.id, Some(&f.id), true).await;
    assert_eq!(a.status, AccountStatus::Pending);
    let t = ok(store.token("t-nurse01", T0).await);
    assert_eq!(t.purpose, TokenPurpose::Activation);
    assert_eq!(t.identity_id.as_deref(), Some(a.identity_id.as_str()));
    assert!(matches!(store.token("t-nurse01", T0 + 86_400_000).await, Err(StoreError::TokenInvalid)));
    let identity =
        ok(store.activate("t-nurse01", "$argon2id$hash", T0 + 1, &audit(Some(&m.id), "user.activate")).await);
    assert_eq!(identity.password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(ok(store.account(&a.id).await).status, AccountStatus::Active);
    let again =
        store.activate("t-nurse01", "$argon2id$other", T0 + 2, &audit(Some(&m.id), "user.activate")).await;
    assert!(matches!(again, Err(StoreError::TokenInvalid)));
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(ok(store.identity_by_login("nurse01").await).map(|i| i.id), Some(a.identity_id.clone()));
    assert_eq!(ok(store.accounts_of_identity(&a.identity_id).await), vec![ok(store.account(&a.id).await)]);
}

pub async fn a_facility_keeps_its_last_manager(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), "facility.create"))
        .await);
    let mut momiji = sample_facility("もみじ");
    momiji.care_provider_no = None;
    let g = ok(store.create_facility(&m.id, &momiji, &audit(Some(&m.id), "facility.create")).await);
    let first = member(store, "manager1", &m.id, Some(&f.id), true).await;
    let second = member(store, "manager2", &m.id, Some(&f.id), true).await;
    assert_eq!(ok(store.facility(&m.id, &f.id).await).active_managers, 2);
    let demote = |a: &Account| AccountUpdate {
        facility_id: a.facility_id.clone(),
        profile: a.profile.clone(),
        is_manager: false,
        careplan: true,
    };
    ok(store.update_account(&m.id, &first.id, &demote(&first), &audit(Some(&m.id), "user.update")).await);
    let chain_before = ok(store.audit_chain(&m.id).await).len();
    let refused =
        store.update_account(&m.id, &second.id, &demote(&second), &audit(Some(&m.id), "user.update")).await;
    assert!(matches!(refused, Err(StoreError::LastManager)), "{refused:?}");
    let refused = store
        .set_account_status(&m.id, &second.id, AccountStatus::Deleted, &audit(Some(&m.id), "user.delete"))
        .await;
    assert!(matches!(refused, Err(StoreError::LastManager)), "{refused:?}");
    // Moving the last manager to another facility would leave this one without any.
    let moved = AccountUpdate { facility_id: Some(g.id.clone()), ..demote(&second) };
    let moved = AccountUpdate { is_manager: true, ..moved };
    let refused = store.update_account(&m.id, &second.id, &moved, &audit(Some(&m.id), "user.update")).await;
    assert!(matches!(refused, Err(StoreError::LastManager)), "{refused:?}");
    // Nothing of the refused changes was written, not even their audit entries.
    let kept = ok(store.account(&second.id).await);
    assert!(kept.is_manager);
    assert_eq!(kept.status, AccountStatus::Pending);
    assert_eq!(kept.facility_id.as_deref(), Some(f.id.as_str()));
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), chain_before);
    // With a new manager in place, the old one may go.
    member(store, "manager3", &m.id, Some(&f.id), true).await;
    ok(store
        .set_account_status(&m.id, &second.id, AccountStatus::Deleted, &audit(Some(&m.id), "user.delete"))
        .await);
    assert_eq!(ok(store.facility(&m.id, &f.id).await).active_managers, 1);
    assert_eq!(ok(store.accounts(&m.id, Some(&f.id)).await).len(), 3);
    assert_eq!(ok(store.accounts(&m.id, Some(&g.id)).await).len(), 0);
    assert!(ok(store.account(&first.id).await).careplan);
}

pub async fn login_ids_are_unique_across_municipalities(store: &dyn Store) {
    let a = municipality(store, "122203").await;
    let b = municipality(store, "122173").await;
    member(store, "sato", &a.id, None, false).await;
    let new = sample_member("SATO", &b.id, None, false);
    let r = store
        .create_account(&new, &token("t-2", TokenPurpose::Activation), &audit(Some(&b.id), "user.create"))
        .await;
    assert!(matches!(r, Err(StoreError::Taken("login_id"))), "{r:?}");
    assert!(ok(store.accounts(&b.id, None).await).is_empty());
}

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
    ok(store.release_sign_in_locks(&a.identity_id, &audit(Some(&m.id), "account.unlock")).await);
    let locks = ok(store.sign_in_locks(&m.id, T0 + 1).await);
    assert_eq!(locks.iter().map(|l| l.account_id.as_str()).collect::<Vec<_>>(), [b.id.as_str()]);
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 1);
    ok(store.release_sign_in_locks(&b.identity_id, &audit(Some(&m.id), "account.unlock")).await);
    assert!(ok(store.sign_in_locks(&m.id, T0 + 1).await).is_empty());
    // Another municipality's lock is untouched.
    assert_eq!(ok(store.sign_in_locks(&other.id, T0 + 1).await).len(), 1);
}

pub async fn a_reissued_activation_link_retires_the_old_one(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let reissued =
        NewToken { identity_id: Some(a.identity_id.clone()), ..token("t-new", TokenPurpose::Activation) };
    ok(store.create_token(&reissued, &audit(Some(&m.id), "user.reissue_activation")).await);
    assert!(matches!(store.token("t-nurse01", T0).await, Err(StoreError::TokenInvalid)));
    let old =
        store.activate("t-nurse01", "$argon2id$old", T0 + 1, &audit(Some(&m.id), "user.activate")).await;
    assert!(matches!(old, Err(StoreError::TokenInvalid)), "{old:?}");
    ok(store.activate("t-new", "$argon2id$new", T0 + 2, &audit(Some(&m.id), "user.activate")).await);
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$new"));
}

pub async fn an_activation_link_never_acts_on_an_active_person(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    ok(store.activate("t-nurse01", "$argon2id$first", T0 + 1, &audit(Some(&m.id), "user.activate")).await);
    // A link issued after activation (the screens refuse to, an older version did not) still
    // cannot set the password of a person who has one.
    let stray =
        NewToken { identity_id: Some(a.identity_id.clone()), ..token("t-stray", TokenPurpose::Activation) };
    ok(store.create_token(&stray, &audit(Some(&m.id), "user.reissue_activation")).await);
    let r = store.activate("t-stray", "$argon2id$taken", T0 + 2, &audit(Some(&m.id), "user.activate")).await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)), "{r:?}");
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$first"));
}

pub async fn sessions_expire_when_idle_and_can_be_revoked(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let new = |id: &str| NewSession {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        identity_id: a.identity_id.clone(),
        account_id: a.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    };
    ok(store.create_session(&new("s1")).await);
    ok(store.create_session(&new("s2")).await);
    ok(store.create_session(&new("s3")).await);
    let s = ok(store.session("hash-s1", T0 + 1).await).map(|s| s.second_factor_done);
    assert_eq!(s, Some(false));
    ok(store.complete_second_factor("s1", T0 + 1_000).await);
    assert_eq!(ok(store.session("hash-s1", T0 + 2_000).await).map(|s| s.second_factor_done), Some(true));
    // Idle for 30 minutes: gone. Touched in time: alive until the absolute limit.
    assert_eq!(ok(store.session("hash-s2", T0 + 1_800_001).await), None);
    for minute in 1..=24u8 {
        let at = T0 + i64::from(minute) * 1_500_000;
        assert!(ok(store.session("hash-s1", at).await).is_some(), "minute {minute}");
        ok(store.touch_session("s1", at).await);
    }
    assert_eq!(ok(store.session("hash-s1", T0 + 43_200_000).await), None);
    assert_eq!(ok(store.sessions_of_identity(&a.identity_id, T0 + 10).await).len(), 3);
    assert!(ok(store.revoke_session(&a.identity_id, "s3", T0 + 20).await));
    assert!(!ok(store.revoke_session("someone-else", "s2", T0 + 20).await));
    assert_eq!(ok(store.session("hash-s3", T0 + 30).await), None);
    assert_eq!(ok(store.revoke_sessions(&a.identity_id, Some("s1"), T0 + 40).await), 1);
    assert!(ok(store.session("hash-s1", T0 + 50).await).is_some());
    assert_eq!(ok(store.session("hash-s2", T0 + 50).await), None);
}

pub async fn a_totp_step_is_accepted_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    ok(store
        .set_second_factor(&a.identity_id, Some(b"sealed"), &[], &audit(Some(&m.id), "totp.enrol"))
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
    ok(store.set_second_factor(&a.identity_id, Some(b"s"), &codes, &audit(Some(&m.id), "totp.enrol")).await);
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 2);
    assert!(ok(store.use_recovery_code(&a.identity_id, "h1", T0).await));
    assert!(!ok(store.use_recovery_code(&a.identity_id, "h1", T0).await));
    assert!(!ok(store.use_recovery_code(&a.identity_id, "nope", T0).await));
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 1);
    // Resetting the second factor removes the codes and signs the person out.
    let s = NewSession {
        id: "s".into(),
        token_hash: "h".into(),
        identity_id: a.identity_id.clone(),
        account_id: a.id.clone(),
        created_at_ms: T0,
        idle_timeout_ms: 1_800_000,
        expires_at_ms: T0 + 43_200_000,
        ip: String::new(),
        user_agent: String::new(),
    };
    ok(store.create_session(&s).await);
    ok(store.set_second_factor(&a.identity_id, None, &[], &audit(Some(&m.id), "totp.reset")).await);
    assert_eq!(ok(store.unused_recovery_codes(&a.identity_id).await), 0);
    assert_eq!(ok(store.identity(&a.identity_id).await).totp_secret, None);
    assert_eq!(ok(store.session("h", T0 + 1).await), None);
}

pub async fn the_setup_link_creates_one_operator(store: &dyn Store) {
    assert!(!ok(store.operator_exists().await));
    ok(store.create_token(&token("old", TokenPurpose::Setup), &audit(None, "setup.link")).await);
    ok(store.create_token(&token("new", TokenPurpose::Setup), &audit(None, "setup.link")).await);
    let operator = NewAccount {
        role: Role::Operator,
        municipality_id: None,
        ..sample_member("operator", "", None, false)
    };
    let r = store.complete_setup("old", &operator, "$argon2id$x", T0, &audit(None, "setup.complete")).await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)), "only the newest link works: {r:?}");
    let a =
        ok(store.complete_setup("new", &operator, "$argon2id$x", T0, &audit(None, "setup.complete")).await);
    assert_eq!((a.role, a.status), (Role::Operator, AccountStatus::Active));
    assert!(ok(store.operator_exists().await));
    let r = store.complete_setup("new", &operator, "$argon2id$x", T0, &audit(None, "setup.complete")).await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)));
}

pub async fn every_change_is_sealed_into_its_chain(store: &dyn Store) {
    let sealer = AuditSealer::new(TEST_AUDIT_KEY);
    let m = municipality(store, "122203").await;
    ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), "facility.create"))
        .await);
    let mut sign_in = audit(Some(&m.id), "auth.login");
    sign_in.at_ms = T0 + 5_000;
    sign_in.actor_login = "nurse01".into();
    ok(store.append_audit(&sign_in).await);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.len(), 3);
    assert_eq!(sealer.verify(chain.iter().map(|r| (&r.facts, r.seal.as_str()))), Ok(3));
    assert_eq!(chain[0].facts.action, CHAIN_OPENED, "the municipality opens its own chain");
    let operator = ok(store.audit_chain(OPERATOR_CHAIN).await);
    assert_eq!(operator.len(), 1, "the municipality's creation is an operator event");
    assert_eq!(operator[0].facts.detail, CHAIN_OPENED_DETAIL);
    assert_eq!(sealer.verify(operator.iter().map(|r| (&r.facts, r.seal.as_str()))), Ok(1));
    assert_eq!(ok(store.audit_chains().await).len(), 2);
    // The head rows say where each chain ends; what came after a checkpoint reads on its own.
    let heads = ok(store.audit_heads().await);
    let head = heads.iter().find(|h| h.chain == m.id).map(|h| (h.seq, h.seal.clone()));
    assert_eq!(head, Some((3, chain[2].seal.clone())));
    assert_eq!(heads.len(), 2);
    let rest = ok(store.audit_chain_from(&m.id, 2).await);
    assert_eq!(rest.iter().map(|r| r.facts.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        sealer.verify_from(2, &rest[0].seal, rest[1..].iter().map(|r| (&r.facts, r.seal.as_str()))),
        Ok(1)
    );
    let filter = |f: AuditFilter| AuditFilter { limit: 100, ..f };
    let by_actor = ok(store
        .audit_entries(
            &m.id,
            &filter(AuditFilter { actor_login: Some("nurse01".into()), ..Default::default() }),
        )
        .await);
    assert_eq!(by_actor.iter().map(|r| r.facts.action.as_str()).collect::<Vec<_>>(), ["auth.login"]);
    let by_action = ok(store
        .audit_entries(
            &m.id,
            &filter(AuditFilter { action_prefix: Some("facility.".into()), ..Default::default() }),
        )
        .await);
    assert_eq!(by_action.len(), 1);
    let since = ok(store
        .audit_entries(&m.id, &filter(AuditFilter { from_ms: Some(T0 + 1), ..Default::default() }))
        .await);
    assert_eq!(since.len(), 1);
    let newest_first = ok(store.audit_entries(&m.id, &filter(AuditFilter::default())).await);
    assert_eq!(newest_first.iter().map(|r| r.facts.seq).collect::<Vec<_>>(), [3, 2, 1]);
}

/// A patient with consent, as 様式4 and the 同意書 give them.
pub fn sample_patient() -> (PatientInfo, ConsentInfo) {
    (
        PatientInfo {
            name: "流山 花子".into(),
            kana: "ながれやま はなこ".into(),
            birth_date: "1938-04-01".into(),
            sex: Sex::Female,
            address: "千葉県流山市平和台3-3-3".into(),
            phone: Some("0471583333".into()),
            insurer_no: Some("122203".into()),
            insured_no: Some("0000123456".into()),
            care_level: CareLevel::Care3,
            contacts: "長男 流山 一郎 090-0000-0000".into(),
        },
        ConsentInfo {
            consented_on: "2026-11-01".into(),
            proxy: None,
            family: Some(("流山 一郎".into(), "長男".into())),
            explainer_facility: "さくら居宅介護支援事業所".into(),
            explainer_name: "介護 次郎".into(),
        },
    )
}

/// A municipality with a room, two active members (a, b) and one other active user (c).
async fn room_with_members(store: &dyn Store) -> (Municipality, Room, [Account; 3]) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), "facility.create"))
        .await);
    let mut accounts = vec![];
    for login in ["member_a", "member_b", "outsider"] {
        let a = member(store, login, &m.id, Some(&f.id), true).await;
        ok(store
            .activate(&format!("t-{login}"), "$argon2id$h", T0, &audit(Some(&m.id), "user.activate"))
            .await);
        accounts.push(a);
    }
    let (patient, consent) = sample_patient();
    let room = ok(store.open_room(&m.id, &patient, &consent, &audit(Some(&m.id), "room.open")).await);
    for a in &accounts[..2] {
        ok(store.add_member(&m.id, &room.id, &a.id, &audit(Some(&m.id), "room.member_add")).await);
    }
    let accounts: [Account; 3] = match accounts.try_into() {
        Ok(a) => a,
        Err(_) => unreachable!(),
    };
    (m, room, accounts)
}

fn post(text: &str) -> NewPost {
    NewPost {
        parent_id: None,
        category: PostCategory::Visit,
        importance: Importance::Normal,
        text: ok(PostText::parse("body", text, false)),
        ack_requested: false,
        vitals: Vitals::default(),
        mentions: vec![],
        attachments: vec![],
        idempotency_key: None,
    }
}

async fn access(store: &dyn Store, account: &Account, room: &Room) -> RoomAccess {
    ok(store.authorize_room(&account.id, &room.id).await)
        .unwrap_or_else(|| panic!("{} is a member", account.login_id))
}

pub async fn a_room_is_opened_with_its_patient_and_consent(store: &dyn Store) {
    let (m, room, _) = room_with_members(store).await;
    assert_eq!(room.name, "流山 花子さん");
    assert_eq!(room.status, RoomStatus::Open);
    let (patient, consent) = sample_patient();
    assert_eq!(ok(store.patient(&m.id, &room.patient_id).await).info, patient);
    let c = ok(store.consent_of(&m.id, &room.patient_id).await);
    assert_eq!((c.info, c.withdrawn_at_ms), (consent, None));
    assert_eq!(ok(store.rooms(&m.id).await), vec![room.clone()]);
    let other = municipality(store, "122173").await;
    assert!(matches!(store.room(&other.id, &room.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.patient(&other.id, &room.patient_id).await, Err(StoreError::NotFound)));
}

pub async fn only_current_members_read_a_room(store: &dyn Store) {
    let (m, room, [a, b, outsider]) = room_with_members(store).await;
    assert!(ok(store.authorize_room(&a.id, &room.id).await).is_some());
    assert!(ok(store.authorize_room(&outsider.id, &room.id).await).is_none());
    let members = ok(store.members(&m.id, &room.id).await);
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|x| x.left_at_ms.is_none() && x.occupation == "看護師"));
    // Adding twice is refused; an admin or another municipality's user cannot be added.
    let again = store.add_member(&m.id, &room.id, &a.id, &audit(Some(&m.id), "room.member_add")).await;
    assert!(matches!(again, Err(StoreError::Taken(_))), "{again:?}");
    let b_access = access(store, &b, &room).await;
    ok(store.remove_member(&m.id, &room.id, &b.id, &audit(Some(&m.id), "room.member_remove")).await);
    assert!(
        ok(store.authorize_room(&b.id, &room.id).await).is_none(),
        "a member who left loses access at once"
    );
    // A proof obtained before leaving writes nothing afterwards.
    let r = store.create_post(&b_access, &post("まだ書ける？"), &audit(Some(&m.id), "post.create")).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "{r:?}");
    assert_eq!(ok(store.members(&m.id, &room.id).await).iter().filter(|x| x.left_at_ms.is_some()).count(), 1);
    // Rejoining starts a new membership period.
    ok(store.add_member(&m.id, &room.id, &b.id, &audit(Some(&m.id), "room.member_add")).await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_some());
    // Oversight: only the municipality's admins, recorded in the audit trail.
    let r = store.oversee_room(&m.id, &a.id, &room.id, &audit(Some(&m.id), "room.oversight")).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "a member is not an admin: {r:?}");
    let admin =
        NewAccount { role: Role::Admin, facility_id: None, ..sample_member("admin01", &m.id, None, false) };
    let admin = ok(store
        .create_account(
            &admin,
            &token("t-admin", TokenPurpose::Activation),
            &audit(Some(&m.id), "admin.create"),
        )
        .await);
    ok(store.activate("t-admin", "$argon2id$h", T0, &audit(Some(&m.id), "user.activate")).await);
    let before = ok(store.audit_chain(&m.id).await).len();
    let oversight =
        ok(store.oversee_room(&m.id, &admin.id, &room.id, &audit(Some(&m.id), "room.oversight")).await);
    assert_eq!(oversight.kind(), AccessKind::Oversight);
    assert!(!oversight.can_write());
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 1);
    let r = store.create_post(&oversight, &post("市です"), &audit(Some(&m.id), "post.create")).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)));
    // A deleted account leaves its rooms; restoring the account does not restore them.
    ok(store
        .set_account_status(&m.id, &b.id, AccountStatus::Deleted, &audit(Some(&m.id), "user.delete"))
        .await);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.last().map(|e| e.facts.detail.as_str()), Some("rooms_left=1"));
    ok(store
        .set_account_status(&m.id, &b.id, AccountStatus::Active, &audit(Some(&m.id), "user.restore"))
        .await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_none(), "the rooms stay left");
    let members = ok(store.members(&m.id, &room.id).await);
    assert!(members.iter().filter(|x| x.account_id == b.id).all(|x| x.left_at_ms.is_some()));
    assert!(ok(store.authorize_room(&a.id, &room.id).await).is_some(), "nobody else leaves");
}

pub async fn the_timeline_pages_newest_first_by_cursor(store: &dyn Store) {
    let (m, room, [a, _, _]) = room_with_members(store).await;
    let access = access(store, &a, &room).await;
    for i in 0..7 {
        ok(store.create_post(&access, &post(&format!("訪問 {i}")), &audit(Some(&m.id), "post.create")).await);
    }
    let first = ok(store.timeline(&access, None, 3).await);
    let texts = |page: &[PostView]| page.iter().map(|p| p.text.as_str().to_string()).collect::<Vec<_>>();
    assert_eq!(texts(&first), ["訪問 6", "訪問 5", "訪問 4"]);
    let second = ok(store.timeline(&access, Some(&first[2].id), 3).await);
    assert_eq!(texts(&second), ["訪問 3", "訪問 2", "訪問 1"]);
    let last = ok(store.timeline(&access, Some(&second[2].id), 3).await);
    assert_eq!(texts(&last), ["訪問 0"]);
    // Replies hang under their post, not in the timeline.
    let reply = NewPost { parent_id: Some(first[0].id.clone()), ..post("了解しました") };
    ok(store.create_post(&access, &reply, &audit(Some(&m.id), "post.create")).await);
    assert_eq!(texts(&ok(store.timeline(&access, None, 1).await)), ["訪問 6"]);
    let replies = ok(store.replies(&access, &[first[0].id.clone()]).await);
    assert_eq!(texts(&replies), ["了解しました"]);
    // A reply to a reply, or to another room's post, is refused.
    let nested = NewPost { parent_id: Some(replies[0].id.clone()), ..post("x") };
    assert!(matches!(
        store.create_post(&access, &nested, &audit(Some(&m.id), "post.create")).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn read_receipts_and_unread_counts(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let p1 = ok(store.create_post(&a_access, &post("一つ目"), &audit(Some(&m.id), "post.create")).await);
    let p2 = ok(store.create_post(&a_access, &post("二つ目"), &audit(Some(&m.id), "post.create")).await);
    let unread = |rooms: Vec<RoomSummary>| rooms.iter().map(|r| r.unread).collect::<Vec<_>>();
    assert_eq!(unread(ok(store.my_rooms(&b.id).await)), [2]);
    assert_eq!(unread(ok(store.my_rooms(&a.id).await)), [0], "one's own posts are never unread");
    ok(store.record_read(&b_access, &[p1.id.clone(), p2.id.clone()], &read_at(&m, T0 + 10)).await);
    ok(store.record_read(&b_access, std::slice::from_ref(&p1.id), &read_at(&m, T0 + 20)).await);
    assert_eq!(unread(ok(store.my_rooms(&b.id).await)), [0]);
    let seen = ok(store.post(&a_access, &p1.id).await);
    assert_eq!((seen.read_count, seen.read_by_me), (1, false));
    assert!(ok(store.post(&b_access, &p1.id).await).read_by_me);
    let readers = ok(store.readers(&a_access, &p1.id).await);
    assert_eq!(
        readers.iter().map(|r| (r.account_id.as_str(), r.at_ms)).collect::<Vec<_>>(),
        [(b.id.as_str(), T0 + 10)]
    );
    // Reading a page records its receipts and its audit entry together.
    let before = ok(store.audit_chain(&m.id).await).len();
    let p4 = ok(store.create_post(&a_access, &post("四つ目"), &audit(Some(&m.id), "post.create")).await);
    assert_eq!(
        ok(store
            .record_read(&b_access, &[p4.id.clone(), p1.id.clone()], &audit(Some(&m.id), "room.read"))
            .await),
        1
    );
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 2);
    // "Mark all read" covers the rest, once.
    let p3 = ok(store.create_post(&a_access, &post("三つ目"), &audit(Some(&m.id), "post.create")).await);
    let before = ok(store.audit_chain(&m.id).await).len();
    assert_eq!(ok(store.mark_room_read(&b_access, &read_at(&m, T0 + 25)).await), 1);
    assert_eq!(ok(store.mark_room_read(&b_access, &read_at(&m, T0 + 26)).await), 0);
    assert!(ok(store.post(&b_access, &p3.id).await).read_by_me);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.len(), before + 1, "one entry for the receipts that were new, none for nothing");
    assert_eq!(chain.last().map(|e| e.facts.detail.as_str()), Some("posts=1"));
    // The author's own reading leaves no receipt.
    ok(store.record_read(&a_access, std::slice::from_ref(&p1.id), &read_at(&m, T0 + 30)).await);
    assert_eq!(ok(store.post(&a_access, &p1.id).await).read_count, 1);
}

pub async fn edits_keep_every_version_and_deletes_hide_the_text(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let p = ok(store.create_post(&a_access, &post("体温 37.8"), &audit(Some(&m.id), "post.create")).await);
    let fixed = ok(PostText::parse("body", "体温 36.8", false));
    let r = store.edit_post(&b_access, &p.id, &fixed, &audit(Some(&m.id), "post.edit")).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "only the author edits: {r:?}");
    ok(store.edit_post(&a_access, &p.id, &fixed, &audit(Some(&m.id), "post.edit")).await);
    ok(store
        .edit_post(
            &a_access,
            &p.id,
            &ok(PostText::parse("body", "体温 36.9", false)),
            &audit(Some(&m.id), "post.edit"),
        )
        .await);
    let shown = ok(store.post(&b_access, &p.id).await);
    assert_eq!(shown.text.as_str(), "体温 36.9");
    assert!(shown.edited_at_ms.is_some());
    let versions = ok(store.post_versions(&b_access, &p.id).await);
    assert_eq!(versions.iter().map(|v| v.text.as_str()).collect::<Vec<_>>(), ["体温 36.8", "体温 37.8"]);
    assert!(matches!(
        store.delete_post(&b_access, &p.id, &audit(Some(&m.id), "post.delete")).await,
        Err(StoreError::NotAllowed)
    ));
    ok(store.delete_post(&a_access, &p.id, &audit(Some(&m.id), "post.delete")).await);
    let gone = ok(store.post(&b_access, &p.id).await);
    assert!(gone.deleted_at_ms.is_some());
    assert_eq!(gone.text.as_str(), "", "the text is hidden from readers");
    assert!(ok(store.post_versions(&b_access, &p.id).await).is_empty());
}

pub async fn withdrawn_consent_makes_the_room_read_only(store: &dyn Store) {
    let (m, room, [a, _, _]) = room_with_members(store).await;
    let before = access(store, &a, &room).await;
    ok(store.create_post(&before, &post("最後の記録"), &audit(Some(&m.id), "post.create")).await);
    ok(store.withdraw_consent(&m.id, &room.patient_id, &audit(Some(&m.id), "consent.withdraw")).await);
    assert!(ok(store.consent_of(&m.id, &room.patient_id).await).withdrawn_at_ms.is_some());
    assert_eq!(ok(store.room(&m.id, &room.id).await).status, RoomStatus::ReadOnly);
    let after = access(store, &a, &room).await;
    assert!(!after.can_write());
    assert_eq!(ok(store.timeline(&after, None, 10).await).len(), 1, "still readable");
    for stale in [&before, &after] {
        let r = store.create_post(stale, &post("書けない"), &audit(Some(&m.id), "post.create")).await;
        assert!(matches!(r, Err(StoreError::NotAllowed)), "{r:?}");
    }
    let again =
        store.withdraw_consent(&m.id, &room.patient_id, &audit(Some(&m.id), "consent.withdraw")).await;
    assert!(matches!(again, Err(StoreError::NotFound)));
}

pub async fn acknowledgements_and_vitals(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let vitals = Vitals {
        systolic: Some(132),
        diastolic: Some(78),
        temperature_tenths: Some(368),
        ..Vitals::default()
    };
    let asked = NewPost {
        ack_requested: true,
        category: PostCategory::Vitals,
        importance: Importance::Urgent,
        vitals,
        ..post("至急ご確認ください")
    };
    let p = ok(store.create_post(&a_access, &asked, &audit(Some(&m.id), "post.create")).await);
    assert_eq!((p.importance, p.vitals), (Importance::Urgent, vitals));
    ok(store.acknowledge(&b_access, &p.id, &audit(Some(&m.id), "post.acknowledge")).await);
    ok(store.acknowledge(&b_access, &p.id, &audit(Some(&m.id), "post.acknowledge")).await);
    let seen = ok(store.post(&b_access, &p.id).await);
    assert_eq!((seen.ack_count, seen.acked_by_me), (1, true));
    assert_eq!(ok(store.acknowledgers(&a_access, &p.id).await).len(), 1);
    ok(store.create_post(&a_access, &post("記録のみ"), &audit(Some(&m.id), "post.create")).await);
    let points = ok(store.vitals(&a_access).await);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].vitals, vitals);
}

fn request(kind: RequestKind, target: Option<&Account>) -> NewRoomRequest {
    NewRoomRequest {
        kind,
        target_account_id: target.map(|a| a.id.clone()),
        closing_reason: (kind == RequestKind::Close).then_some(ClosingReason::Death),
        note: "退院後の訪問を開始".into(),
    }
}

pub async fn requests_to_invite_remove_and_close_wait_for_the_municipality(store: &dyn Store) {
    let (m, room, [a, b, c]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let add = ok(store
        .request(&a_access, &request(RequestKind::AddMember, Some(&c)), &audit(Some(&m.id), "room.request"))
        .await);
    assert_eq!(add, RequestStatus::Pending);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_none(), "not before approval");
    let again = store
        .request(&a_access, &request(RequestKind::AddMember, Some(&b)), &audit(Some(&m.id), "room.request"))
        .await;
    assert!(matches!(again, Err(StoreError::Taken(_))), "b is a member already: {again:?}");
    let pending = ok(store.room_requests(&m.id, Some(&room.id), true).await);
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].kind, pending[0].target_name.as_deref()),
        (RequestKind::AddMember, Some("看護 一郎"))
    );
    ok(store
        .decide_request(&m.id, &pending[0].id, true, "", &audit(Some(&m.id), "room.request_approve"))
        .await);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_some());
    let twice = store
        .decide_request(&m.id, &pending[0].id, true, "", &audit(Some(&m.id), "room.request_approve"))
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "a request is decided once");
    // A rejected removal changes nothing; an approved one removes.
    ok(store
        .request(
            &a_access,
            &request(RequestKind::RemoveMember, Some(&b)),
            &audit(Some(&m.id), "room.request"),
        )
        .await);
    let id = ok(store.room_requests(&m.id, Some(&room.id), true).await).remove(0).id;
    ok(store
        .decide_request(&m.id, &id, false, "担当継続のため", &audit(Some(&m.id), "room.request_reject"))
        .await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_some());
    let all = ok(store.room_requests(&m.id, None, false).await);
    assert_eq!(all[0].status, RequestStatus::Rejected);
    assert_eq!(all[0].decision_note.as_deref(), Some("担当継続のため"));
    // Closing: read-only for everyone once the municipality confirms.
    ok(store
        .request(&a_access, &request(RequestKind::Close, None), &audit(Some(&m.id), "room.request"))
        .await);
    let id = ok(store.room_requests(&m.id, None, true).await).remove(0).id;
    assert!(access(store, &b, &room).await.can_write(), "open until confirmed");
    ok(store.decide_request(&m.id, &id, true, "", &audit(Some(&m.id), "room.request_approve")).await);
    assert_eq!(ok(store.room(&m.id, &room.id).await).status, RoomStatus::ReadOnly);
    assert!(!access(store, &b, &room).await.can_write());
    let other = municipality(store, "122173").await;
    assert!(ok(store.room_requests(&other.id, None, false).await).is_empty());
}

pub async fn a_care_manager_may_invite_directly_when_the_municipality_allows(store: &dyn Store) {
    let (m, room, [_, _, c]) = room_with_members(store).await;
    let mut new = sample_member("caremanager", &m.id, None, false);
    new.profile.profession = ok(Profession::parse("o", "oo", "care_manager", ""));
    let cm = ok(store
        .create_account(&new, &token("t-cm", TokenPurpose::Activation), &audit(Some(&m.id), "user.create"))
        .await);
    ok(store.activate("t-cm", "$argon2id$h", T0, &audit(Some(&m.id), "user.activate")).await);
    ok(store.add_member(&m.id, &room.id, &cm.id, &audit(Some(&m.id), "room.member_add")).await);
    let cm_access = access(store, &cm, &room).await;
    let status = ok(store
        .request(&cm_access, &request(RequestKind::AddMember, Some(&c)), &audit(Some(&m.id), "room.request"))
        .await);
    assert_eq!(status, RequestStatus::Pending, "not allowed by default");
    let mut settings = m.settings;
    settings.care_manager_may_invite = true;
    ok(store.update_municipality_settings(&m.id, &settings, &audit(Some(&m.id), "settings.update")).await);
    let id = ok(store.room_requests(&m.id, None, true).await).remove(0).id;
    ok(store.decide_request(&m.id, &id, false, "", &audit(Some(&m.id), "room.request_reject")).await);
    let status = ok(store
        .request(&cm_access, &request(RequestKind::AddMember, Some(&c)), &audit(Some(&m.id), "room.request"))
        .await);
    assert_eq!(status, RequestStatus::Approved);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_some());
    // Removal still goes through the municipality.
    let status = ok(store
        .request(
            &cm_access,
            &request(RequestKind::RemoveMember, Some(&c)),
            &audit(Some(&m.id), "room.request"),
        )
        .await);
    assert_eq!(status, RequestStatus::Pending);
}

pub async fn mentions_name_current_members_and_count_until_read(store: &dyn Store) {
    let (m, room, [a, b, c]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let to_c = NewPost { mentions: vec![c.id.clone()], ..post("c さんへ") };
    let r = store.create_post(&a_access, &to_c, &audit(Some(&m.id), "post.create")).await;
    assert!(matches!(r, Err(StoreError::NotMember)), "only current members can be mentioned: {r:?}");
    let to_b = NewPost { mentions: vec![b.id.clone()], ..post("b さん、確認を") };
    let p = ok(store.create_post(&a_access, &to_b, &audit(Some(&m.id), "post.create")).await);
    assert_eq!(p.mentioned, ["看護 一郎"]);
    let b_access = access(store, &b, &room).await;
    assert!(ok(store.post(&b_access, &p.id).await).mentions_me);
    assert!(!ok(store.post(&a_access, &p.id).await).mentions_me);
    let summary =
        |rooms: Vec<RoomSummary>| rooms.iter().map(|r| (r.unread, r.unread_mentions)).collect::<Vec<_>>();
    assert_eq!(summary(ok(store.my_rooms(&b.id).await)), [(1, 1)]);
    ok(store.record_read(&b_access, std::slice::from_ref(&p.id), &read_at(&m, T0)).await);
    assert_eq!(summary(ok(store.my_rooms(&b.id).await)), [(0, 0)]);
    assert_eq!(ok(store.timeline(&b_access, None, 5).await)[0].mentioned, ["看護 一郎"]);
}

pub async fn attachments_belong_to_their_post_and_room(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let photo = Attachment {
        id: new_id(),
        kind: "photo".into(),
        name: "褥瘡.jpg".into(),
        size: 12345,
        width: 640,
        height: 480,
        content_key: "blob-1".into(),
        thumb_key: Some("blob-1-thumb".into()),
    };
    let with_photo = NewPost { attachments: vec![photo.clone()], ..post("写真を添付します") };
    let p = ok(store.create_post(&a_access, &with_photo, &audit(Some(&m.id), "post.create")).await);
    assert_eq!(p.attachments, vec![photo.clone()]);
    let b_access = access(store, &b, &room).await;
    assert_eq!(ok(store.attachment(&b_access, &photo.id).await), photo);
    // Not through another room, and not once the post is deleted.
    let (patient, consent) = sample_patient();
    let other = ok(store.open_room(&m.id, &patient, &consent, &audit(Some(&m.id), "room.open")).await);
    ok(store.add_member(&m.id, &other.id, &b.id, &audit(Some(&m.id), "room.member_add")).await);
    let elsewhere = access(store, &b, &other).await;
    assert!(matches!(store.attachment(&elsewhere, &photo.id).await, Err(StoreError::NotFound)));
    ok(store.delete_post(&a_access, &p.id, &audit(Some(&m.id), "post.delete")).await);
    assert!(matches!(store.attachment(&b_access, &photo.id).await, Err(StoreError::NotFound)));
    assert!(ok(store.post(&b_access, &p.id).await).attachments.is_empty());
    // The files stay referred to (a deleted post's files are kept like its row).
    let mut keys = ok(store.attachment_keys().await);
    keys.sort();
    assert_eq!(keys, ["blob-1", "blob-1-thumb"]);
}

pub async fn a_form_sent_twice_writes_one_post(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let keyed = |key: &str, text: &str| NewPost { idempotency_key: Some(key.into()), ..post(text) };
    let create = audit(Some(&m.id), "post.create");
    let first = ok(store.create_post(&a_access, &keyed("form-key-0001", "訪問しました"), &create).await);
    let chain = ok(store.audit_chain(&m.id).await).len();
    // Sent again (the answer to the first sending was lost): the first post, nothing written.
    let again = ok(store.create_post(&a_access, &keyed("form-key-0001", "訪問しました"), &create).await);
    assert_eq!(again, first);
    assert_eq!(ok(store.timeline(&a_access, None, 10).await).len(), 1);
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), chain, "no second audit entry either");
    // Keys are per author; posts without a key are never taken for one another.
    let b_access = access(store, &b, &room).await;
    let theirs = ok(store.create_post(&b_access, &keyed("form-key-0001", "別の人"), &create).await);
    assert_ne!(theirs.id, first.id);
    ok(store.create_post(&a_access, &post("鍵なし"), &create).await);
    ok(store.create_post(&a_access, &post("鍵なし"), &create).await);
    // Two sendings at the same moment still make one post.
    let twice = keyed("form-key-0002", "同時に二度");
    let (x, y) = futures_util::future::join(
        store.create_post(&a_access, &twice, &create),
        store.create_post(&a_access, &twice, &create),
    )
    .await;
    assert_eq!(ok(x).id, ok(y).id);
    let mut texts: Vec<String> =
        ok(store.timeline(&a_access, None, 10).await).iter().map(|p| p.text.as_str().to_string()).collect();
    texts.sort();
    assert_eq!(texts, ["別の人", "同時に二度", "訪問しました", "鍵なし", "鍵なし"]);
    // A reply sent twice, too.
    let reply = NewPost { parent_id: Some(first.id.clone()), ..keyed("form-key-0003", "了解") };
    let r1 = ok(store.create_post(&b_access, &reply, &create).await);
    let r2 = ok(store.create_post(&b_access, &reply, &create).await);
    assert_eq!(r1.id, r2.id);
    assert_eq!(ok(store.replies(&a_access, std::slice::from_ref(&first.id)).await).len(), 1);
}

fn careplan_set(
    kind: &str,
    stamp: &str,
    sender: &Facility,
    receiver: &Facility,
    by: &Account,
) -> NewCareplanSet {
    NewCareplanSet {
        kind: kind.into(),
        stamp: stamp.into(),
        month: None,
        sender_facility_id: sender.id.clone(),
        receiver_facility_id: receiver.id.clone(),
        sender_office: "1234567890-43".into(),
        receiver_office: "2234567890-13".into(),
        uploaded_by: by.id.clone(),
        uploaded_at_ms: T0,
        files: vec![CareplanFileData {
            name: format!("UP1KYO_1234567890_43_2234567890_13_{stamp}.CSV"),
            kind: "UP1KYO".into(),
            bytes: vec![0x82, 0xA0, b',', b'\r', b'\n', 0xFB, 0xFC],
        }],
        subjects: vec![CareplanSubject {
            insurer_no: "122203".into(),
            insured_no: "0000123456".into(),
            record_key: "20261101".into(),
            name: "ナガレヤマ ハナコ".into(),
            patient_id: None,
            withdrawn_by: None,
        }],
    }
}

/// 介護予防 (仕様 3.3, 3.4): a 介護予防サービス・支援計画書_削除 withdraws the plan, also where it
/// travelled with a 利用者基本情報; a 利用者基本情報_削除 withdraws the 利用者基本情報 sent alone
/// and leaves a plan standing.
pub async fn yobo_deletions_withdraw_their_own_sets(store: &dyn Store) {
    let (m, _room, [manager, ..]) = room_with_members(store).await;
    let mut info = sample_facility("ながれやま通所");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver = ok(store.create_facility(&m.id, &info, &audit(Some(&m.id), "facility.create")).await);
    let sender = ok(store
        .facility(&m.id, ok(store.account(&manager.id).await).facility_id.as_deref().unwrap_or(""))
        .await);
    let send = |kind: &'static str, stamp: &'static str, key: &'static str| {
        let mut set = careplan_set(kind, stamp, &sender, &receiver, &manager);
        set.subjects[0].record_key = key.into();
        let (store, m, sender) = (store, m.clone(), sender.clone());
        async move {
            let id = ok(store.create_careplan_set(&set, &audit(Some(&m.id), "careplan.upload")).await);
            ok(store.send_careplan_set(&sender.id, &id, T0, &audit(Some(&m.id), "careplan.send")).await);
            id
        }
    };
    let withdrawn = |id: String| {
        let (store, receiver) = (store, receiver.clone());
        async move { ok(store.careplan_set(&receiver.id, &id).await).summary.withdrawn_by }
    };
    // The plan date keys a plan set; the 相談日 keys a 利用者基本情報 set.
    let both = send("yobo_kihon", "20261201100000", "20261115").await;
    let kihon = send("kihon", "20261201110000", "20261110").await;
    let plan = send("yobo", "20261201120000", "20261116").await;
    let kihon_deletion = send("kihon_deletion", "20261202100000", "20261110").await;
    assert_eq!(withdrawn(kihon.clone()).await, Some(kihon_deletion.clone()));
    assert_eq!(withdrawn(both.clone()).await, None, "the plan in it still holds");
    let yobo_deletion = send("yobo_deletion", "20261202110000", "20261115").await;
    assert_eq!(withdrawn(both).await, Some(yobo_deletion.clone()));
    assert_eq!(withdrawn(plan.clone()).await, None, "another plan date");
    let yobo_deletion = send("yobo_deletion", "20261202120000", "20261116").await;
    assert_eq!(withdrawn(plan).await, Some(yobo_deletion));
}

pub async fn careplan_sets_go_from_sender_to_receiver_and_deletions_withdraw(store: &dyn Store) {
    let (m, room, [manager, ..]) = room_with_members(store).await;
    // The receiver is in another municipality on the same server.
    let other = municipality(store, "122173").await;
    let mut info = sample_facility("かしわ訪問看護");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver =
        ok(store.create_facility(&other.id, &info, &audit(Some(&other.id), "facility.create")).await);
    let sender = ok(store
        .facility(&m.id, ok(store.account(&manager.id).await).facility_id.as_deref().unwrap_or(""))
        .await);
    let found = ok(store.facilities_by_care_provider_no("2234567890").await);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, receiver.id);
    assert!(ok(store.facilities_by_care_provider_no("9999999999").await).is_empty());

    let plan = careplan_set("plan", "20261101090000", &sender, &receiver, &manager);
    let id = ok(store.create_careplan_set(&plan, &audit(Some(&m.id), "careplan.upload")).await);
    assert!(matches!(
        store.create_careplan_set(&plan, &audit(Some(&m.id), "careplan.upload")).await,
        Err(StoreError::Taken(_))
    ));
    // Drafts are the sender's alone.
    let mine = ok(store.careplan_set(&sender.id, &id).await);
    assert_eq!(mine.files, plan.files, "the original bytes come back unchanged");
    assert_eq!(
        mine.summary.subjects[0].patient_id.as_deref(),
        Some(room.patient_id.as_str()),
        "linked to the patient"
    );
    assert_eq!(mine.summary.receiver_facility_name, "かしわ訪問看護");
    assert!(matches!(store.careplan_set(&receiver.id, &id).await, Err(StoreError::NotFound)));
    assert!(ok(store.careplan_sets(&receiver.id).await).is_empty());
    assert!(matches!(
        store
            .acknowledge_careplan_set(
                &receiver.id,
                &id,
                &manager.id,
                T0,
                &audit(Some(&other.id), "careplan.ack")
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // Only the sender sends, once.
    assert!(matches!(
        store.send_careplan_set(&receiver.id, &id, T0, &audit(Some(&other.id), "careplan.send")).await,
        Err(StoreError::NotFound)
    ));
    ok(store.send_careplan_set(&sender.id, &id, T0 + 1, &audit(Some(&m.id), "careplan.send")).await);
    assert!(matches!(
        store.send_careplan_set(&sender.id, &id, T0 + 2, &audit(Some(&m.id), "careplan.send")).await,
        Err(StoreError::NotAllowed)
    ));
    let inbox = ok(store.careplan_sets(&receiver.id).await);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].sent_at_ms, Some(T0 + 1));
    ok(store
        .acknowledge_careplan_set(
            &receiver.id,
            &id,
            &manager.id,
            T0 + 5,
            &audit(Some(&other.id), "careplan.ack"),
        )
        .await);
    ok(store
        .acknowledge_careplan_set(
            &receiver.id,
            &id,
            &manager.id,
            T0 + 9,
            &audit(Some(&other.id), "careplan.ack"),
        )
        .await);
    let seen = ok(store.careplan_set(&sender.id, &id).await).summary;
    assert_eq!(seen.acknowledged_at_ms, Some(T0 + 5), "the first acknowledgement stays");
    assert_eq!(seen.acknowledged_by_name.as_deref(), Some("看護 一郎"));
    // A later deletion for the same person and plan date withdraws the plan; an earlier one
    // (applied in stamp order) does not.
    let early = careplan_set("plan_deletion", "20261031090000", &sender, &receiver, &manager);
    let early = ok(store.create_careplan_set(&early, &audit(Some(&m.id), "careplan.upload")).await);
    ok(store.send_careplan_set(&sender.id, &early, T0 + 10, &audit(Some(&m.id), "careplan.send")).await);
    assert_eq!(ok(store.careplan_set(&sender.id, &id).await).summary.withdrawn_by, None);
    let mut other_person = careplan_set("plan_deletion", "20261102090000", &sender, &receiver, &manager);
    other_person.subjects[0].insured_no = "0000999999".into();
    let other_person =
        ok(store.create_careplan_set(&other_person, &audit(Some(&m.id), "careplan.upload")).await);
    ok(store
        .send_careplan_set(&sender.id, &other_person, T0 + 11, &audit(Some(&m.id), "careplan.send"))
        .await);
    assert_eq!(ok(store.careplan_set(&sender.id, &id).await).summary.withdrawn_by, None);
    let deletion = careplan_set("plan_deletion", "20261103090000", &sender, &receiver, &manager);
    let deletion = ok(store.create_careplan_set(&deletion, &audit(Some(&m.id), "careplan.upload")).await);
    ok(store.send_careplan_set(&sender.id, &deletion, T0 + 12, &audit(Some(&m.id), "careplan.send")).await);
    assert_eq!(ok(store.careplan_set(&receiver.id, &id).await).summary.withdrawn_by, Some(deletion.clone()));
    // Sent late, a plan whose stamp comes before that deletion's arrives withdrawn.
    let late = careplan_set("plan", "20261102120000", &sender, &receiver, &manager);
    let late = ok(store.create_careplan_set(&late, &audit(Some(&m.id), "careplan.upload")).await);
    ok(store.send_careplan_set(&sender.id, &late, T0 + 13, &audit(Some(&m.id), "careplan.send")).await);
    assert_eq!(
        ok(store.careplan_set(&receiver.id, &late).await).summary.withdrawn_by,
        Some(deletion.clone())
    );
    let later = careplan_set("plan", "20261104090000", &sender, &receiver, &manager);
    let later = ok(store.create_careplan_set(&later, &audit(Some(&m.id), "careplan.upload")).await);
    ok(store.send_careplan_set(&sender.id, &later, T0 + 14, &audit(Some(&m.id), "careplan.send")).await);
    assert_eq!(ok(store.careplan_set(&receiver.id, &later).await).summary.withdrawn_by, None);
    let listed: Vec<_> = ok(store.careplan_sets(&receiver.id).await).into_iter().map(|s| s.stamp).collect();
    assert_eq!(
        listed,
        [
            "20261104090000",
            "20261103090000",
            "20261102120000",
            "20261102090000",
            "20261101090000",
            "20261031090000"
        ]
    );
}

/// A deletion withdraws what it names, not the whole set (issue 10, item 13): a 実績 set for
/// 訪問介護 (11) and 福祉用具貸与 (17) of one office keeps its 訪問介護 when the 17 is deleted
/// (「削除はサービス種類毎に行う」), and a plan for two people keeps the other person's plan.
pub async fn a_deletion_withdraws_only_the_people_and_service_types_it_names(store: &dyn Store) {
    let (m, _room, [manager, ..]) = room_with_members(store).await;
    let other = municipality(store, "122173").await;
    let mut info = sample_facility("かしわ福祉用具");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver =
        ok(store.create_facility(&other.id, &info, &audit(Some(&other.id), "facility.create")).await);
    let sender = ok(store
        .facility(&m.id, ok(store.account(&manager.id).await).facility_id.as_deref().unwrap_or(""))
        .await);
    let subject = |insured: &str, key: &str| CareplanSubject {
        insurer_no: "122203".into(),
        insured_no: insured.into(),
        record_key: key.into(),
        name: "ナガレヤマ ハナコ".into(),
        patient_id: None,
        withdrawn_by: None,
    };
    let (m_id, sender_id, receiver_id) = (&m.id, &sender.id, &receiver.id);
    let send = move |set: NewCareplanSet| async move {
        let id = ok(store.create_careplan_set(&set, &audit(Some(m_id), "careplan.upload")).await);
        ok(store.send_careplan_set(sender_id, &id, T0, &audit(Some(m_id), "careplan.send")).await);
        id
    };
    let withdrawn = move |id: String| async move {
        let set = ok(store.careplan_set(receiver_id, &id).await).summary;
        let subjects: Vec<_> =
            set.subjects.iter().map(|s| (s.record_key.clone(), s.withdrawn_by.clone())).collect();
        (set.withdrawn_by, subjects)
    };

    let mut actual = careplan_set("actual", "20270105100000", &sender, &receiver, &manager);
    actual.subjects =
        vec![subject("0000123456", "202612 2234567890 11"), subject("0000123456", "202612 2234567890 17")];
    let actual = send(actual).await;
    let mut deletion = careplan_set("actual_deletion", "20270106100000", &sender, &receiver, &manager);
    deletion.subjects = vec![subject("0000123456", "202612 2234567890 17")];
    let deletion = send(deletion).await;
    assert_eq!(
        withdrawn(actual.clone()).await,
        (
            None,
            vec![
                ("202612 2234567890 11".to_string(), None),
                ("202612 2234567890 17".to_string(), Some(deletion.clone()))
            ]
        ),
        "the 訪問介護 実績 stays"
    );
    let mut rest = careplan_set("actual_deletion", "20270107100000", &sender, &receiver, &manager);
    rest.subjects = vec![subject("0000123456", "202612 2234567890 11")];
    let rest = send(rest).await;
    assert_eq!(withdrawn(actual).await.0, Some(rest.clone()), "withdrawn once nothing is left");

    // A plan for two people: deleting one person's plan leaves the other's.
    let mut plan = careplan_set("plan", "20261101090000", &sender, &receiver, &manager);
    plan.subjects = vec![subject("0000000001", "20261101"), subject("0000000002", "20261101")];
    let plan = send(plan).await;
    let mut one = careplan_set("plan_deletion", "20261102090000", &sender, &receiver, &manager);
    one.subjects = vec![subject("0000000001", "20261101")];
    let one = send(one).await;
    assert_eq!(withdrawn(plan.clone()).await.0, None);
    // Sent late, a plan for both whose stamp comes before that deletion keeps the second person.
    let mut late = careplan_set("plan", "20261101120000", &sender, &receiver, &manager);
    late.subjects = vec![subject("0000000001", "20261101"), subject("0000000002", "20261101")];
    let late = send(late).await;
    assert_eq!(
        withdrawn(late).await,
        (None, vec![("20261101".to_string(), Some(one.clone())), ("20261101".to_string(), None)])
    );
    let mut two = careplan_set("plan_deletion", "20261103090000", &sender, &receiver, &manager);
    two.subjects = vec![subject("0000000002", "20261101")];
    let two = send(two).await;
    assert_eq!(withdrawn(plan).await.0, Some(two));
}

//! The conformance suite: stories every [`Store`] must tell the same way. Each backend crate
//! runs them with [`conformance_tests!`](crate::conformance_tests) on a fresh database per test
//! (atuin's `tests-database` pattern), so SQLite and PostgreSQL cannot drift apart.

use renraku_domain::audit::{AuditSealer, CHAIN_OPENED_DETAIL, OPERATOR_CHAIN};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::dates::BirthDate;
use renraku_domain::directory::*;
use renraku_domain::rooms::{CareLevel, Importance, PostCategory, PostText, Sex, Vitals};

use crate::*;

mod audit;
mod careplan;
mod directory;
mod jobs;
mod posts;
mod rooms;
mod sessions;

pub use audit::*;
pub use careplan::*;
pub use directory::*;
pub use jobs::*;
pub use posts::*;
pub use rooms::*;
pub use sessions::*;

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
            a_new_password_ends_every_other_session,
            a_request_loads_its_session_with_account_identity_and_municipality_at_once,
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
            the_room_list_previews_the_latest_visible_post_and_counts_unread_urgent_ones,
            requests_to_invite_remove_and_close_wait_for_the_municipality,
            a_care_manager_may_invite_directly_when_the_municipality_allows,
            mentions_name_current_members_and_count_until_read,
            attachments_belong_to_their_post_and_room,
            a_form_sent_twice_writes_one_post,
            careplan_sets_go_from_sender_to_receiver_and_deletions_withdraw,
            a_multi_set_upload_is_stored_all_or_nothing,
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

fn audit(municipality_id: Option<&MunicipalityId>, action: AuditAction) -> AuditDraft {
    AuditDraft {
        municipality_id: municipality_id.cloned(),
        at_ms: T0,
        actor_login: "tester".into(),
        ip: "127.0.0.1".into(),
        object_type: "test".into(),
        outcome: "ok".into(),
        ..AuditDraft::new(action)
    }
}

/// The audit entry of a room read at `at_ms`.
fn read_at(m: &Municipality, at_ms: i64) -> AuditDraft {
    AuditDraft { at_ms, ..audit(Some(&m.id), AuditAction::RoomRead) }
}

/// A session id as a test names it (any text: the store takes ids as given).
fn sid(id: &str) -> SessionId {
    SessionId::from_stored(id.into())
}

/// The facility of a member account (an empty id, found nowhere, for one without).
fn facility_of(account: &Account) -> FacilityId {
    account.facility_id.clone().unwrap_or_else(|| FacilityId::from_stored(String::new()))
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
    ok(store.create_municipality(&new, &audit(None, AuditAction::MunicipalityCreate)).await)
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
    municipality_id: &MunicipalityId,
    facility_id: Option<&FacilityId>,
    manager: bool,
) -> NewAccount {
    NewAccount {
        login_id: ok(LoginId::parse("l", login)),
        municipality_id: Some(municipality_id.clone()),
        facility_id: facility_id.cloned(),
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

async fn member(
    store: &dyn Store,
    login: &str,
    m: &MunicipalityId,
    f: Option<&FacilityId>,
    manager: bool,
) -> Account {
    let new = sample_member(login, m, f, manager);
    ok(store
        .create_account(
            &new,
            &token(&format!("t-{login}"), TokenPurpose::Activation),
            &audit(Some(m), AuditAction::UserCreate),
        )
        .await)
}

/// A patient with consent, as 様式4 and the 同意書 give them.
pub fn sample_patient() -> (PatientInfo, ConsentInfo) {
    (
        PatientInfo {
            name: "流山 花子".into(),
            kana: "ながれやま はなこ".into(),
            birth_date: BirthDate::from_trusted("1938-04-01".into()),
            sex: Sex::Female,
            address: "千葉県流山市平和台3-3-3".into(),
            phone: Some("0471583333".into()),
            insurer_no: Some(InsurerNo::from_trusted("122203".into())),
            insured_no: Some(InsuredNo::from_trusted("0000123456".into())),
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
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), AuditAction::FacilityCreate))
        .await);
    let mut accounts = vec![];
    for login in ["member_a", "member_b", "outsider"] {
        let a = member(store, login, &m.id, Some(&f.id), true).await;
        ok(store
            .activate(
                &format!("t-{login}"),
                "$argon2id$h",
                T0,
                &audit(Some(&m.id), AuditAction::AccountActivated),
            )
            .await);
        accounts.push(a);
    }
    let (patient, consent) = sample_patient();
    let room =
        ok(store.open_room(&m.id, &patient, &consent, &audit(Some(&m.id), AuditAction::RoomOpen)).await);
    for a in &accounts[..2] {
        ok(store.add_member(&m.id, &room.id, &a.id, &audit(Some(&m.id), AuditAction::RoomMemberAdd)).await);
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

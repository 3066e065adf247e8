//! Directory stories: municipalities, facilities, accounts, activation and setup links.

use super::*;

pub async fn municipality_codes_are_unique(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    assert_eq!(ok(store.municipality_by_code("122203").await), m);
    assert_eq!(ok(store.municipality(&m.id).await).name.as_str(), "流山市");
    let again = NewMunicipality { code: m.code.clone(), name: m.name.clone(), settings: m.settings };
    let err = store.create_municipality(&again, &audit(None, AuditAction::MunicipalityCreate)).await;
    assert!(matches!(err, Err(StoreError::Taken("code"))), "{err:?}");
    assert!(matches!(store.municipality_by_code("999999").await, Err(StoreError::NotFound)));
    let mut settings = m.settings;
    settings.password_policy.max_age_days = Some(30);
    settings.idle_timeout_secs = 600;
    ok(store
        .update_municipality_settings(&m.id, &settings, &audit(Some(&m.id), AuditAction::SettingsUpdate))
        .await);
    assert_eq!(ok(store.municipality(&m.id).await).settings, settings);
    assert_eq!(ok(store.municipalities().await).len(), 1);
    let corrected = ok(Name::parse("n", "流山市（千葉県）"));
    ok(store
        .rename_municipality(&m.id, &corrected, &audit(Some(&m.id), AuditAction::MunicipalityRename))
        .await);
    let renamed = ok(store.municipality(&m.id).await);
    assert_eq!((renamed.name, renamed.code, renamed.settings), (corrected.clone(), m.code.clone(), settings));
    let chain = ok(store.audit_chain(m.id.as_str()).await);
    assert_eq!(chain.last().map(|r| r.facts.action.as_str()), Some("municipality.rename"));
    let unknown = MunicipalityId::from_stored("no-such-municipality".into());
    let err =
        store.rename_municipality(&unknown, &corrected, &audit(None, AuditAction::MunicipalityRename)).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
}

pub async fn facilities_are_scoped_to_their_municipality(store: &dyn Store) {
    let a = municipality(store, "122203").await;
    let b = municipality(store, "122173").await;
    let info = sample_facility("さくら訪問看護ステーション");
    let f = ok(store.create_facility(&a.id, &info, &audit(Some(&a.id), AuditAction::FacilityCreate)).await);
    assert_eq!(f.info, info);
    assert_eq!(f.active_managers, 0);
    assert_eq!(ok(store.facilities(&a.id).await), vec![f.clone()]);
    assert!(ok(store.facilities(&b.id).await).is_empty());
    assert!(matches!(store.facility(&b.id, &f.id).await, Err(StoreError::NotFound)));
    let mut changed = info.clone();
    changed.name = ok(Name::parse("n", "さくら訪問看護ステーション南"));
    changed.email = None;
    ok(store.update_facility(&a.id, &f.id, &changed, &audit(Some(&a.id), AuditAction::FacilityUpdate)).await);
    assert_eq!(ok(store.facility(&a.id, &f.id).await).info, changed);
    let other =
        store.update_facility(&b.id, &f.id, &info, &audit(Some(&b.id), AuditAction::FacilityUpdate)).await;
    assert!(matches!(other, Err(StoreError::NotFound)));
    // A member cannot be put in another municipality's facility.
    let new = sample_member("outsider", &b.id, Some(&f.id), true);
    let r = store
        .create_account(
            &new,
            &token("t-o", TokenPurpose::Activation),
            &audit(Some(&b.id), AuditAction::UserCreate),
        )
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
        .create_facility(&a.id, &sample_facility("さくら"), &audit(Some(&a.id), AuditAction::FacilityCreate))
        .await);
    let chain_before = ok(store.audit_chain(&b.id).await).len();
    let mut squatter = sample_facility("かしわ");
    let refused =
        store.create_facility(&b.id, &squatter, &audit(Some(&b.id), AuditAction::FacilityCreate)).await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    assert!(ok(store.facilities(&b.id).await).is_empty(), "nothing was written");
    assert_eq!(ok(store.audit_chain(&b.id).await).len(), chain_before, "nor audited as done");
    // Nor by changing a facility's number afterwards.
    squatter.care_provider_no = None;
    let other =
        ok(store.create_facility(&b.id, &squatter, &audit(Some(&b.id), AuditAction::FacilityCreate)).await);
    squatter.care_provider_no = number();
    let refused = store
        .update_facility(&b.id, &other.id, &squatter, &audit(Some(&b.id), AuditAction::FacilityUpdate))
        .await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    assert_eq!(ok(store.facility(&b.id, &other.id).await).info.care_provider_no, None);
    // Within one municipality too.
    let refused = store
        .create_facility(&a.id, &sample_facility("もみじ"), &audit(Some(&a.id), AuditAction::FacilityCreate))
        .await;
    assert!(matches!(refused, Err(StoreError::Taken("care_provider_no"))), "{refused:?}");
    // The holder keeps its number through other changes.
    let mut renamed = held.info.clone();
    renamed.name = ok(Name::parse("n", "さくら南"));
    ok(store
        .update_facility(&a.id, &held.id, &renamed, &audit(Some(&a.id), AuditAction::FacilityUpdate))
        .await);
    let found = ok(store.facilities_by_care_provider_no("1234567890").await);
    assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [held.id.as_str()]);
    // Once the holder lets it go, the other facility may take it.
    renamed.care_provider_no = None;
    ok(store
        .update_facility(&a.id, &held.id, &renamed, &audit(Some(&a.id), AuditAction::FacilityUpdate))
        .await);
    ok(store
        .update_facility(&b.id, &other.id, &squatter, &audit(Some(&b.id), AuditAction::FacilityUpdate))
        .await);
    let found = ok(store.facilities_by_care_provider_no("1234567890").await);
    assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [other.id.as_str()]);
}

pub async fn an_activation_link_works_once(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), AuditAction::FacilityCreate))
        .await);
    let a = member(store, "nurse01", &m.id, Some(&f.id), true).await;
    assert_eq!(a.status, AccountStatus::Pending);
    let t = ok(store.token("t-nurse01", T0).await);
    assert_eq!(t.purpose, TokenPurpose::Activation);
    assert_eq!(t.identity_id.as_deref(), Some(a.identity_id.as_str()));
    assert!(matches!(store.token("t-nurse01", T0 + 86_400_000).await, Err(StoreError::TokenInvalid)));
    let identity = ok(store
        .activate("t-nurse01", "$argon2id$hash", T0 + 1, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await);
    assert_eq!(identity.password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(ok(store.account(&a.id).await).status, AccountStatus::Active);
    let again = store
        .activate("t-nurse01", "$argon2id$other", T0 + 2, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await;
    assert!(matches!(again, Err(StoreError::TokenInvalid)));
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(ok(store.identity_by_login("nurse01").await).map(|i| i.id), Some(a.identity_id.clone()));
    assert_eq!(ok(store.accounts_of_identity(&a.identity_id).await), vec![ok(store.account(&a.id).await)]);
}

pub async fn a_facility_keeps_its_last_manager(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let f = ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), AuditAction::FacilityCreate))
        .await);
    let mut momiji = sample_facility("もみじ");
    momiji.care_provider_no = None;
    let g = ok(store.create_facility(&m.id, &momiji, &audit(Some(&m.id), AuditAction::FacilityCreate)).await);
    let first = member(store, "manager1", &m.id, Some(&f.id), true).await;
    let second = member(store, "manager2", &m.id, Some(&f.id), true).await;
    assert_eq!(ok(store.facility(&m.id, &f.id).await).active_managers, 2);
    let demote = |a: &Account| AccountUpdate {
        facility_id: a.facility_id.clone(),
        profile: a.profile.clone(),
        is_manager: false,
        careplan: true,
    };
    ok(store
        .update_account(&m.id, &first.id, &demote(&first), &audit(Some(&m.id), AuditAction::UserUpdate))
        .await);
    let chain_before = ok(store.audit_chain(&m.id).await).len();
    let refused = store
        .update_account(&m.id, &second.id, &demote(&second), &audit(Some(&m.id), AuditAction::UserUpdate))
        .await;
    assert!(matches!(refused, Err(StoreError::LastManager)), "{refused:?}");
    let refused = store
        .set_account_status(
            &m.id,
            &second.id,
            AccountStatus::Deleted,
            &audit(Some(&m.id), AuditAction::UserDelete),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::LastManager)), "{refused:?}");
    // Moving the last manager to another facility would leave this one without any.
    let moved = AccountUpdate { facility_id: Some(g.id.clone()), ..demote(&second) };
    let moved = AccountUpdate { is_manager: true, ..moved };
    let refused =
        store.update_account(&m.id, &second.id, &moved, &audit(Some(&m.id), AuditAction::UserUpdate)).await;
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
        .set_account_status(
            &m.id,
            &second.id,
            AccountStatus::Deleted,
            &audit(Some(&m.id), AuditAction::UserDelete),
        )
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
        .create_account(
            &new,
            &token("t-2", TokenPurpose::Activation),
            &audit(Some(&b.id), AuditAction::UserCreate),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Taken("login_id"))), "{r:?}");
    assert!(ok(store.accounts(&b.id, None).await).is_empty());
}

pub async fn a_reissued_activation_link_retires_the_old_one(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    let reissued =
        NewToken { identity_id: Some(a.identity_id.clone()), ..token("t-new", TokenPurpose::Activation) };
    ok(store.create_token(&reissued, &audit(Some(&m.id), AuditAction::UserReissueActivation)).await);
    assert!(matches!(store.token("t-nurse01", T0).await, Err(StoreError::TokenInvalid)));
    let old = store
        .activate("t-nurse01", "$argon2id$old", T0 + 1, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await;
    assert!(matches!(old, Err(StoreError::TokenInvalid)), "{old:?}");
    ok(store
        .activate("t-new", "$argon2id$new", T0 + 2, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await);
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$new"));
}

pub async fn an_activation_link_never_acts_on_an_active_person(store: &dyn Store) {
    let m = municipality(store, "122203").await;
    let a = member(store, "nurse01", &m.id, None, false).await;
    ok(store
        .activate("t-nurse01", "$argon2id$first", T0 + 1, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await);
    // A link issued after activation (the screens refuse to, an older version did not) still
    // cannot set the password of a person who has one.
    let stray =
        NewToken { identity_id: Some(a.identity_id.clone()), ..token("t-stray", TokenPurpose::Activation) };
    ok(store.create_token(&stray, &audit(Some(&m.id), AuditAction::UserReissueActivation)).await);
    let r = store
        .activate("t-stray", "$argon2id$taken", T0 + 2, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)), "{r:?}");
    assert_eq!(ok(store.identity(&a.identity_id).await).password_hash.as_deref(), Some("$argon2id$first"));
}

pub async fn the_setup_link_creates_one_operator(store: &dyn Store) {
    assert!(!ok(store.operator_exists().await));
    ok(store
        .create_token(&token("old", TokenPurpose::Setup), &audit(None, AuditAction::SetupLinkIssued))
        .await);
    ok(store
        .create_token(&token("new", TokenPurpose::Setup), &audit(None, AuditAction::SetupLinkIssued))
        .await);
    let operator = NewAccount {
        role: Role::Operator,
        municipality_id: None,
        ..sample_member("operator", &MunicipalityId::from_stored(String::new()), None, false)
    };
    let r = store
        .complete_setup("old", &operator, "$argon2id$x", T0, &audit(None, AuditAction::SetupOperatorCreated))
        .await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)), "only the newest link works: {r:?}");
    let a = ok(store
        .complete_setup("new", &operator, "$argon2id$x", T0, &audit(None, AuditAction::SetupOperatorCreated))
        .await);
    assert_eq!((a.role, a.status), (Role::Operator, AccountStatus::Active));
    assert!(ok(store.operator_exists().await));
    let r = store
        .complete_setup("new", &operator, "$argon2id$x", T0, &audit(None, AuditAction::SetupOperatorCreated))
        .await;
    assert!(matches!(r, Err(StoreError::TokenInvalid)));
}

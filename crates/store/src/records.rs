//! The things the store keeps, as the rest of the program sees them.

use renraku_domain::audit::AuditFacts;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{
    AccountStatus, Email, FacilityNumber, KanaName, LoginId, MunicipalityCode, Name, PhoneNumber, PostalCode,
    Profession, Role, ServiceCategory,
};
use renraku_domain::ids::{AccountId, FacilityId, IdentityId, MunicipalityId, SessionId};
use renraku_domain::password::PasswordPolicy;

/// A municipality (市区町村): one tenant, with its own admins, settings and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub id: MunicipalityId,
    pub code: MunicipalityCode,
    pub name: Name,
    pub settings: MunicipalitySettings,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMunicipality {
    pub code: MunicipalityCode,
    pub name: Name,
    pub settings: MunicipalitySettings,
}

/// What a municipality decides for its own users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MunicipalitySettings {
    pub password_policy: PasswordPolicy,
    /// Sign out after this long without a request (default 30 minutes).
    pub idle_timeout_secs: i64,
    /// Sign out this long after sign-in, whatever happens (default 12 hours).
    pub absolute_timeout_secs: i64,
    /// A room's care manager (介護支援専門員) may add members without the municipality's
    /// approval (D6).
    pub care_manager_may_invite: bool,
}

impl Default for MunicipalitySettings {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 3600,
            care_manager_may_invite: false,
        }
    }
}

/// 法人: the legal entity that runs a facility, as on 様式1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corporation {
    pub name: Name,
    pub kana: KanaName,
    pub representative: Name,
    pub postal_code: PostalCode,
    pub address: Name,
    pub phone: PhoneNumber,
}

/// A facility's facts as 様式1 asks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityInfo {
    pub corporation: Corporation,
    pub name: Name,
    pub kana: KanaName,
    pub postal_code: PostalCode,
    pub address: Name,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub service_category: ServiceCategory,
    /// 医療機関番号.
    pub medical_institution_no: Option<FacilityNumber>,
    /// 介護事業所番号.
    pub care_provider_no: Option<FacilityNumber>,
    /// 管理者: the facility's director.
    pub administrator: Name,
}

/// A 医療機関・介護事業所.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    pub id: FacilityId,
    pub municipality_id: MunicipalityId,
    pub info: FacilityInfo,
    pub active_managers: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Who a user is, as the directory shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: Name,
    pub kana: KanaName,
    pub profession: Profession,
    pub email: Option<Email>,
    pub phone: Option<PhoneNumber>,
}

/// A person's role in one municipality, or the operator's role on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub identity_id: IdentityId,
    pub login_id: LoginId,
    /// `None` only for the operator.
    pub municipality_id: Option<MunicipalityId>,
    /// The facility a member works at; admins and the operator have none.
    pub facility_id: Option<FacilityId>,
    pub role: Role,
    pub profile: Profile,
    /// システム利用管理担当者.
    pub is_manager: bool,
    /// ケアプランデータ連携利用者.
    pub careplan: bool,
    pub status: AccountStatus,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub login_id: LoginId,
    pub municipality_id: Option<MunicipalityId>,
    pub facility_id: Option<FacilityId>,
    pub role: Role,
    pub profile: Profile,
    pub is_manager: bool,
    pub careplan: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    pub facility_id: Option<FacilityId>,
    pub profile: Profile,
    pub is_manager: bool,
    pub careplan: bool,
}

/// The person who signs in: one login ID, one password, one second factor, whatever number of
/// accounts they hold.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: IdentityId,
    pub login_id: LoginId,
    pub password_hash: Option<String>,
    pub password_changed_at_ms: i64,
    /// The TOTP secret, encrypted with the server key.
    pub totp_secret: Option<Vec<u8>>,
    pub created_at_ms: i64,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("has_password", &self.password_hash.is_some())
            .field("has_totp", &self.totp_secret.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// The operator's first-run link.
    Setup,
    /// A new account's link to set its own password.
    Activation,
}

impl TokenPurpose {
    pub fn code(self) -> &'static str {
        match self {
            TokenPurpose::Setup => "setup",
            TokenPurpose::Activation => "activation",
        }
    }
}

/// A one-time link. Only the SHA-256 of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub hash: String,
    pub purpose: TokenPurpose,
    pub identity_id: Option<IdentityId>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub purpose: TokenPurpose,
    pub identity_id: Option<IdentityId>,
    pub expires_at_ms: i64,
}

/// How many failures lock a key, for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: i64,
    /// Failures older than this are forgotten.
    pub window_ms: i64,
    pub lock_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: i64,
    pub locked_until_ms: Option<i64>,
}

impl Throttle {
    pub fn is_locked(&self, now_ms: i64) -> bool {
        self.locked_until_ms.is_some_and(|t| t > now_ms)
    }
}

/// What [`SessionStore::claim_attempt`](crate::SessionStore::claim_attempt) decided about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// False when the key was already locked: the attempt must not be checked at all.
    pub allowed: bool,
    /// The key after this attempt was counted (as a failure, until it is taken back).
    pub throttle: Throttle,
}

/// A sign-in lock in force on one of a municipality's accounts, for the admin's user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLock {
    pub account_id: AccountId,
    /// True for the second-factor lock (wrong TOTP or recovery codes), false for the
    /// password lock of the login ID.
    pub second_factor: bool,
    pub locked_until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: SessionId,
    pub token_hash: String,
    pub identity_id: IdentityId,
    pub account_id: AccountId,
    pub created_at_ms: i64,
    pub idle_timeout_ms: i64,
    pub expires_at_ms: i64,
    pub ip: String,
    pub user_agent: String,
}

/// A signed-in browser. Until the second factor is given, `second_factor_done` is false and
/// the session opens nothing but the second-factor pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub identity_id: IdentityId,
    pub account_id: AccountId,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub idle_timeout_ms: i64,
    pub expires_at_ms: i64,
    pub second_factor_done: bool,
    pub ip: String,
    pub user_agent: String,
}

/// What every signed-in request needs, read in one query: the live session, its account and
/// identity, and the account's municipality (`None` for the operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub session: Session,
    pub account: Account,
    pub identity: Identity,
    pub municipality: Option<Municipality>,
}

/// An audit entry before it is sealed; the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    /// The municipality whose chain it joins; `None` for the operator chain.
    pub municipality_id: Option<MunicipalityId>,
    pub at_ms: i64,
    pub actor_account_id: Option<AccountId>,
    pub actor_login: String,
    pub ip: String,
    /// Stored as its code, which the seals cover.
    pub action: AuditAction,
    pub object_type: String,
    pub object_id: String,
    pub outcome: String,
    /// Never personal or health information: ids and field names only.
    pub detail: String,
}

impl AuditDraft {
    /// An entry of `action` with every other field empty, to fill in with struct update syntax.
    pub fn new(action: AuditAction) -> Self {
        Self {
            municipality_id: None,
            at_ms: 0,
            actor_account_id: None,
            actor_login: String::new(),
            ip: String::new(),
            action,
            object_type: String::new(),
            object_id: String::new(),
            outcome: String::new(),
            detail: String::new(),
        }
    }
}

/// A sealed audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub facts: AuditFacts,
    pub seal: String,
}

/// Where a chain's head row says it ends: its last entry's place and seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub chain: String,
    pub seq: i64,
    pub seal: String,
}

/// What the audit screen and the export ask for. Newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub actor_login: Option<String>,
    pub action_prefix: Option<String>,
    pub limit: i64,
}

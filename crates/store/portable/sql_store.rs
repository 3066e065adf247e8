//! The implementation of [`Store`] in SQL that SQLite and PostgreSQL both understand.
//!
//! This file is not a crate: `renraku-store-sqlite` and `renraku-store-postgres` each include it
//! with `#[path]` and compile it against their own concrete driver (`crate::Db`), so the code is
//! written once but type-checked for each database. What differs between the two — connection
//! set-up, migrations, row locks — lives in each crate's `lib.rs` and `dialect` module.

use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use renraku_domain::audit::{AuditFacts, CHAIN_OPENED, CHAIN_OPENED_DETAIL, GENESIS, OPERATOR_CHAIN};
use renraku_domain::directory::{
    AccountStatus, Email, FacilityNumber, KanaName, LoginId, MunicipalityCode, Name, Occupation, PhoneNumber,
    PostalCode, Profession, Role, ServiceCategory,
};
use renraku_domain::password::PasswordPolicy;
use renraku_domain::rooms::PostText;
use renraku_store::*;
use sqlx::Row as _;

use crate::{Db, DbRow, SqlStore, dialect};

type Tx = sqlx::Transaction<'static, Db>;

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Other(anyhow!(other)),
    }
}

/// Maps a unique-constraint violation to [`StoreError::Taken`] naming `field`.
pub(crate) fn taken(field: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Taken(field),
        _ => db_err(e),
    }
}

pub(crate) fn get<'r, T>(row: &'r DbRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(column).with_context(|| format!("column {column}")).map_err(StoreError::Other)
}

pub(crate) fn code<T>(value: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&value).ok_or_else(|| StoreError::Other(anyhow!("unknown code {value:?} in the database")))
}

fn municipality_from(row: &DbRow) -> StoreResult<Municipality> {
    let max_age: Option<i64> = get(row, "pw_max_age_days")?;
    Ok(Municipality {
        id: get(row, "id")?,
        code: MunicipalityCode::from_trusted(get(row, "code")?),
        name: Name::from_trusted(get(row, "name")?),
        settings: MunicipalitySettings {
            password_policy: PasswordPolicy {
                min_length: u32::try_from(get::<i64>(row, "pw_min_length")?).unwrap_or(u32::MAX),
                max_age_days: max_age.and_then(|d| u32::try_from(d).ok()),
            },
            idle_timeout_secs: get(row, "idle_timeout_secs")?,
            absolute_timeout_secs: get(row, "absolute_timeout_secs")?,
            care_manager_may_invite: get(row, "care_manager_may_invite")?,
        },
        created_at_ms: get(row, "created_at_ms")?,
    })
}

pub(crate) const FACILITY_COLUMNS: &str = "f.id, f.municipality_id, f.corp_name, f.corp_kana, f.corp_representative, \
    f.corp_postal_code, f.corp_address, f.corp_phone, f.name, f.kana, f.postal_code, f.address, f.phone, \
    f.email, f.service_category, f.medical_institution_no, f.care_provider_no, f.administrator, \
    f.created_at_ms, f.updated_at_ms, \
    (SELECT COUNT(*) FROM accounts a WHERE a.facility_id = f.id AND a.is_manager = TRUE \
        AND a.status IN ('pending', 'active')) AS active_managers";

pub(crate) fn facility_from(row: &DbRow) -> StoreResult<Facility> {
    let opt_number = |c: &str| -> StoreResult<Option<FacilityNumber>> {
        Ok(get::<Option<String>>(row, c)?.map(FacilityNumber::from_trusted))
    };
    Ok(Facility {
        id: get(row, "id")?,
        municipality_id: get(row, "municipality_id")?,
        info: FacilityInfo {
            corporation: Corporation {
                name: Name::from_trusted(get(row, "corp_name")?),
                kana: KanaName::from_trusted(get(row, "corp_kana")?),
                representative: Name::from_trusted(get(row, "corp_representative")?),
                postal_code: PostalCode::from_trusted(get(row, "corp_postal_code")?),
                address: Name::from_trusted(get(row, "corp_address")?),
                phone: PhoneNumber::from_trusted(get(row, "corp_phone")?),
            },
            name: Name::from_trusted(get(row, "name")?),
            kana: KanaName::from_trusted(get(row, "kana")?),
            postal_code: PostalCode::from_trusted(get(row, "postal_code")?),
            address: Name::from_trusted(get(row, "address")?),
            phone: PhoneNumber::from_trusted(get(row, "phone")?),
            email: get::<Option<String>>(row, "email")?.map(Email::from_trusted),
            service_category: code(get(row, "service_category")?, ServiceCategory::from_code)?,
            medical_institution_no: opt_number("medical_institution_no")?,
            care_provider_no: opt_number("care_provider_no")?,
            administrator: Name::from_trusted(get(row, "administrator")?),
        },
        active_managers: get(row, "active_managers")?,
        created_at_ms: get(row, "created_at_ms")?,
        updated_at_ms: get(row, "updated_at_ms")?,
    })
}

const ACCOUNT_COLUMNS: &str = "a.id, a.identity_id, i.login_id, a.municipality_id, a.facility_id, a.role, a.name, \
    a.kana, a.occupation, a.occupation_other, a.email, a.phone, a.is_manager, a.careplan, a.status, a.created_at_ms";

fn account_from(row: &DbRow) -> StoreResult<Account> {
    Ok(Account {
        id: get(row, "id")?,
        identity_id: get(row, "identity_id")?,
        login_id: LoginId::from_trusted(get(row, "login_id")?),
        municipality_id: get(row, "municipality_id")?,
        facility_id: get(row, "facility_id")?,
        role: code(get(row, "role")?, Role::from_code)?,
        profile: Profile {
            name: Name::from_trusted(get(row, "name")?),
            kana: KanaName::from_trusted(get(row, "kana")?),
            profession: Profession {
                occupation: code(get(row, "occupation")?, Occupation::from_code)?,
                other: get(row, "occupation_other")?,
            },
            email: get::<Option<String>>(row, "email")?.map(Email::from_trusted),
            phone: get::<Option<String>>(row, "phone")?.map(PhoneNumber::from_trusted),
        },
        is_manager: get(row, "is_manager")?,
        careplan: get(row, "careplan")?,
        status: code(get(row, "status")?, AccountStatus::from_code)?,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

fn identity_from(row: &DbRow) -> StoreResult<Identity> {
    Ok(Identity {
        id: get(row, "id")?,
        login_id: LoginId::from_trusted(get(row, "login_id")?),
        password_hash: get(row, "password_hash")?,
        password_changed_at_ms: get(row, "password_changed_at_ms")?,
        totp_secret: get(row, "totp_secret")?,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

const SESSION_COLUMNS: &str = "id, identity_id, account_id, created_at_ms, last_seen_at_ms, idle_timeout_ms, \
    expires_at_ms, second_factor_done, ip, user_agent";

fn session_from(row: &DbRow) -> StoreResult<Session> {
    Ok(Session {
        id: get(row, "id")?,
        identity_id: get(row, "identity_id")?,
        account_id: get(row, "account_id")?,
        created_at_ms: get(row, "created_at_ms")?,
        last_seen_at_ms: get(row, "last_seen_at_ms")?,
        idle_timeout_ms: get(row, "idle_timeout_ms")?,
        expires_at_ms: get(row, "expires_at_ms")?,
        second_factor_done: get(row, "second_factor_done")?,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
    })
}

fn audit_from(row: &DbRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        facts: AuditFacts {
            chain: get(row, "chain")?,
            seq: get(row, "seq")?,
            at_ms: get(row, "at_ms")?,
            actor_account_id: get(row, "actor_account_id")?,
            actor_login: get(row, "actor_login")?,
            ip: get(row, "ip")?,
            action: get(row, "action")?,
            object_type: get(row, "object_type")?,
            object_id: get(row, "object_id")?,
            outcome: get(row, "outcome")?,
            detail: get(row, "detail")?,
        },
        seal: get(row, "seal")?,
    })
}

/// The only "live session" condition; every session query uses it.
const LIVE_SESSION: &str =
    "revoked_at_ms IS NULL AND expires_at_ms > $2 AND last_seen_at_ms + idle_timeout_ms > $2";

impl SqlStore {
    /// Seals `draft` into its municipality's chain, inside the caller's transaction. The head
    /// row is taken first (locked on PostgreSQL; SQLite has a single writer), so two appends to
    /// one chain can never claim the same place.
    async fn append(&self, tx: &mut Tx, draft: &AuditDraft) -> StoreResult<()> {
        let chain = draft.municipality_id.as_deref().unwrap_or(OPERATOR_CHAIN);
        sqlx::query(
            "INSERT INTO audit_heads (chain, seq, seal) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING",
        )
        .bind(chain)
        .bind(GENESIS)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        let head =
            sqlx::query(dialect::LOCK_AUDIT_HEAD).bind(chain).fetch_one(&mut **tx).await.map_err(db_err)?;
        let prev_seq: i64 = get(&head, "seq")?;
        let prev_seal: String = get(&head, "seal")?;
        let facts = AuditFacts {
            chain: chain.to_string(),
            seq: prev_seq + 1,
            at_ms: draft.at_ms,
            actor_account_id: draft.actor_account_id.clone(),
            actor_login: draft.actor_login.clone(),
            ip: draft.ip.clone(),
            action: draft.action.clone(),
            object_type: draft.object_type.clone(),
            object_id: draft.object_id.clone(),
            outcome: draft.outcome.clone(),
            detail: draft.detail.clone(),
        };
        let seal = self.sealer.seal(&prev_seal, &facts);
        sqlx::query(
            "INSERT INTO audit_events (chain, seq, at_ms, actor_account_id, actor_login, ip, action, object_type, \
             object_id, outcome, detail, seal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&facts.chain)
        .bind(facts.seq)
        .bind(facts.at_ms)
        .bind(&facts.actor_account_id)
        .bind(&facts.actor_login)
        .bind(&facts.ip)
        .bind(&facts.action)
        .bind(&facts.object_type)
        .bind(&facts.object_id)
        .bind(&facts.outcome)
        .bind(&facts.detail)
        .bind(&seal)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE audit_heads SET seq = $2, seal = $3 WHERE chain = $1")
            .bind(chain)
            .bind(facts.seq)
            .bind(&seal)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Commits `tx` after appending `audit` to it.
    pub(crate) async fn commit_with(&self, mut tx: Tx, audit: &AuditDraft) -> StoreResult<()> {
        self.append(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn active_managers(tx: &mut Tx, facility_id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM accounts WHERE facility_id = $1 AND is_manager = TRUE \
             AND status IN ('pending', 'active')",
        )
        .bind(facility_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        get(&row, "n")
    }

    /// Runs `change` and refuses it if a facility it touches had an active manager before and
    /// has none after. The facilities are locked first, so two admins cannot each remove "the
    /// other" last manager at the same moment.
    async fn keeping_managers(&self, tx: &mut Tx, facilities: &[&str]) -> StoreResult<Vec<i64>> {
        let mut before = Vec::with_capacity(facilities.len());
        for facility in facilities {
            sqlx::query(dialect::LOCK_FACILITY)
                .bind(*facility)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            before.push(Self::active_managers(tx, facility).await?);
        }
        Ok(before)
    }

    async fn check_managers(tx: &mut Tx, facilities: &[&str], before: &[i64]) -> StoreResult<()> {
        for (facility, before) in facilities.iter().zip(before) {
            if *before > 0 && Self::active_managers(tx, facility).await? == 0 {
                return Err(StoreError::LastManager);
            }
        }
        Ok(())
    }

    /// Takes a one-time link inside `tx`: it must exist, be unused, unexpired and of `purpose`.
    async fn take_token(
        tx: &mut Tx,
        hash: &str,
        purpose: TokenPurpose,
        now_ms: i64,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "UPDATE tokens SET used_at_ms = $3 WHERE hash = $1 AND purpose = $2 AND used_at_ms IS NULL \
             AND expires_at_ms > $3 RETURNING identity_id",
        )
        .bind(hash)
        .bind(purpose.code())
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
        match row {
            Some(row) => get(&row, "identity_id"),
            None => Err(StoreError::TokenInvalid),
        }
    }

    async fn insert_identity_and_account(
        tx: &mut Tx,
        new: &NewAccount,
        password_hash: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<Account> {
        let identity_id = new_id();
        sqlx::query(
            "INSERT INTO identities (id, login_id, password_hash, password_changed_at_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&identity_id)
        .bind(new.login_id.as_str())
        .bind(password_hash)
        .bind(now_ms)
        .execute(&mut **tx)
        .await
        .map_err(taken("login_id"))?;
        let status = if password_hash.is_some() { AccountStatus::Active } else { AccountStatus::Pending };
        let account = Account {
            id: new_id(),
            identity_id,
            login_id: new.login_id.clone(),
            municipality_id: new.municipality_id.clone(),
            facility_id: new.facility_id.clone(),
            role: new.role,
            profile: new.profile.clone(),
            is_manager: new.is_manager,
            careplan: new.careplan,
            status,
            created_at_ms: now_ms,
        };
        let p = &account.profile;
        sqlx::query(
            "INSERT INTO accounts (id, identity_id, municipality_id, facility_id, role, name, kana, occupation, \
             occupation_other, email, phone, is_manager, careplan, status, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
        )
        .bind(&account.id)
        .bind(&account.identity_id)
        .bind(&account.municipality_id)
        .bind(&account.facility_id)
        .bind(account.role.code())
        .bind(p.name.as_str())
        .bind(p.kana.as_str())
        .bind(p.profession.occupation.code())
        .bind(&p.profession.other)
        .bind(p.email.as_ref().map(Email::as_str))
        .bind(p.phone.as_ref().map(PhoneNumber::as_str))
        .bind(account.is_manager)
        .bind(account.careplan)
        .bind(status.code())
        .bind(now_ms)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(account)
    }

    async fn insert_token(tx: &mut Tx, token: &NewToken, municipality_id: Option<&str>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tokens (hash, purpose, identity_id, municipality_id, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.hash)
        .bind(token.purpose.code())
        .bind(&token.identity_id)
        .bind(municipality_id)
        .bind(token.expires_at_ms)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// A facility id given by a caller must be in the caller's municipality.
    async fn facility_in(tx: &mut Tx, municipality_id: &str, facility_id: &str) -> StoreResult<()> {
        sqlx::query("SELECT id FROM facilities WHERE id = $1 AND municipality_id = $2")
            .bind(facility_id)
            .bind(municipality_id)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Refuses a 介護事業所番号 that another facility on the server (in any municipality)
    /// holds: the care-plan exchange routes by it, so one facility must not be able to take
    /// another's. Called inside the write transaction after taking the number's lock, so two
    /// facilities registering the same number at once cannot both succeed.
    async fn care_provider_no_free(
        tx: &mut Tx,
        number: Option<&FacilityNumber>,
        facility_id: &str,
    ) -> StoreResult<()> {
        let Some(number) = number else { return Ok(()) };
        sqlx::query(crate::dialect::LOCK_CARE_PROVIDER_NO)
            .bind(number.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        let holder =
            sqlx::query("SELECT id FROM facilities WHERE care_provider_no = $1 AND id <> $2 LIMIT 1")
                .bind(number.as_str())
                .bind(facility_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
        match holder {
            Some(_) => Err(StoreError::Taken("care_provider_no")),
            None => Ok(()),
        }
    }
}

fn bind_facility<'q>(
    query: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    f: &'q FacilityInfo,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    query
        .bind(f.corporation.name.as_str())
        .bind(f.corporation.kana.as_str())
        .bind(f.corporation.representative.as_str())
        .bind(f.corporation.postal_code.as_str())
        .bind(f.corporation.address.as_str())
        .bind(f.corporation.phone.as_str())
        .bind(f.name.as_str())
        .bind(f.kana.as_str())
        .bind(f.postal_code.as_str())
        .bind(f.address.as_str())
        .bind(f.phone.as_str())
        .bind(f.email.as_ref().map(Email::as_str))
        .bind(f.service_category.code())
        .bind(f.medical_institution_no.as_ref().map(FacilityNumber::as_str))
        .bind(f.care_provider_no.as_ref().map(FacilityNumber::as_str))
        .bind(f.administrator.as_str())
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        crate::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.reader()).await.map_err(db_err)?;
        Ok(())
    }

    async fn check_writer(&self, now_ms: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO health_probe (id, at_ms) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_municipality(
        &self,
        new: &NewMunicipality,
        audit: &AuditDraft,
    ) -> StoreResult<Municipality> {
        let m = Municipality {
            id: new_id(),
            code: new.code.clone(),
            name: new.name.clone(),
            settings: new.settings,
            created_at_ms: audit.at_ms,
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO municipalities (id, code, name, pw_min_length, pw_max_age_days, idle_timeout_secs, \
             absolute_timeout_secs, created_at_ms, care_manager_may_invite) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&m.id)
        .bind(m.code.as_str())
        .bind(m.name.as_str())
        .bind(i64::from(m.settings.password_policy.min_length))
        .bind(m.settings.password_policy.max_age_days.map(i64::from))
        .bind(m.settings.idle_timeout_secs)
        .bind(m.settings.absolute_timeout_secs)
        .bind(m.created_at_ms)
        .bind(m.settings.care_manager_may_invite)
        .execute(&mut *tx)
        .await
        .map_err(taken("code"))?;
        let mut audit = audit.clone();
        audit.object_id = m.id.clone();
        // The municipality's own chain starts with the municipality, so that a chain deleted
        // whole (entries and head row) is missed, and one started again is noticed.
        let opened = AuditDraft {
            municipality_id: Some(m.id.clone()),
            action: CHAIN_OPENED.into(),
            object_type: "municipality".into(),
            ..audit.clone()
        };
        audit.detail = format!("{} {CHAIN_OPENED_DETAIL}", audit.detail).trim_start().to_string();
        self.append(&mut tx, &opened).await?;
        self.commit_with(tx, &audit).await?;
        Ok(m)
    }

    async fn municipalities(&self) -> StoreResult<Vec<Municipality>> {
        let rows = sqlx::query("SELECT * FROM municipalities ORDER BY code")
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(municipality_from).collect()
    }

    async fn municipality(&self, id: &str) -> StoreResult<Municipality> {
        let row = sqlx::query("SELECT * FROM municipalities WHERE id = $1")
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        municipality_from(&row)
    }

    async fn municipality_by_code(&self, code: &str) -> StoreResult<Municipality> {
        let row = sqlx::query("SELECT * FROM municipalities WHERE code = $1")
            .bind(code)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        municipality_from(&row)
    }

    async fn update_municipality_settings(
        &self,
        id: &str,
        settings: &MunicipalitySettings,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE municipalities SET pw_min_length = $2, pw_max_age_days = $3, idle_timeout_secs = $4, \
             absolute_timeout_secs = $5, care_manager_may_invite = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(i64::from(settings.password_policy.min_length))
        .bind(settings.password_policy.max_age_days.map(i64::from))
        .bind(settings.idle_timeout_secs)
        .bind(settings.absolute_timeout_secs)
        .bind(settings.care_manager_may_invite)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn create_facility(
        &self,
        municipality_id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Facility> {
        let id = new_id();
        let mut tx = self.begin().await?;
        Self::care_provider_no_free(&mut tx, info.care_provider_no.as_ref(), &id).await?;
        let query = sqlx::query(
            "INSERT INTO facilities (id, municipality_id, created_at_ms, updated_at_ms, corp_name, corp_kana, \
             corp_representative, corp_postal_code, corp_address, corp_phone, name, kana, postal_code, address, \
             phone, email, service_category, medical_institution_no, care_provider_no, administrator) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&id)
        .bind(municipality_id)
        .bind(audit.at_ms);
        bind_facility(query, info).execute(&mut *tx).await.map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id.clone();
        self.commit_with(tx, &audit).await?;
        self.facility(municipality_id, &id).await
    }

    async fn update_facility(
        &self,
        municipality_id: &str,
        id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // A number the facility already had stays (two facilities may share one from before
        // the rule; routing refuses it until the operator releases one); a new one must be free.
        let current: Option<String> = sqlx::query_scalar(
            "SELECT care_provider_no FROM facilities WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id)
        .bind(municipality_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if current.as_deref() != info.care_provider_no.as_ref().map(FacilityNumber::as_str) {
            Self::care_provider_no_free(&mut tx, info.care_provider_no.as_ref(), id).await?;
        }
        let query = sqlx::query(
            "UPDATE facilities SET updated_at_ms = $3, corp_name = $4, corp_kana = $5, corp_representative = $6, \
             corp_postal_code = $7, corp_address = $8, corp_phone = $9, name = $10, kana = $11, postal_code = $12, \
             address = $13, phone = $14, email = $15, service_category = $16, medical_institution_no = $17, \
             care_provider_no = $18, administrator = $19 WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id)
        .bind(municipality_id)
        .bind(audit.at_ms);
        let done = bind_facility(query, info).execute(&mut *tx).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn facility(&self, municipality_id: &str, id: &str) -> StoreResult<Facility> {
        let sql =
            format!("SELECT {FACILITY_COLUMNS} FROM facilities f WHERE f.id = $1 AND f.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(municipality_id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        facility_from(&row)
    }

    async fn facilities(&self, municipality_id: &str) -> StoreResult<Vec<Facility>> {
        let sql = format!(
            "SELECT {FACILITY_COLUMNS} FROM facilities f WHERE f.municipality_id = $1 ORDER BY f.kana"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(facility_from).collect()
    }

    async fn operator_exists(&self) -> StoreResult<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE role = 'operator'")
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    async fn create_account(
        &self,
        new: &NewAccount,
        activation: &NewToken,
        audit: &AuditDraft,
    ) -> StoreResult<Account> {
        let mut tx = self.begin().await?;
        if let (Some(m), Some(f)) = (&new.municipality_id, &new.facility_id) {
            Self::facility_in(&mut tx, m, f).await?;
        }
        let account = Self::insert_identity_and_account(&mut tx, new, None, audit.at_ms).await?;
        let token = NewToken { identity_id: Some(account.identity_id.clone()), ..activation.clone() };
        Self::insert_token(&mut tx, &token, new.municipality_id.as_deref()).await?;
        let mut audit = audit.clone();
        audit.object_id = account.id.clone();
        self.commit_with(tx, &audit).await?;
        Ok(account)
    }

    async fn update_account(
        &self,
        municipality_id: &str,
        id: &str,
        update: &AccountUpdate,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let current = sqlx::query("SELECT facility_id FROM accounts WHERE id = $1 AND municipality_id = $2")
            .bind(id)
            .bind(municipality_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let old_facility: Option<String> = get(&current, "facility_id")?;
        if let Some(f) = &update.facility_id {
            Self::facility_in(&mut tx, municipality_id, f).await?;
        }
        let touched: Vec<&str> =
            old_facility.iter().chain(update.facility_id.iter()).map(String::as_str).collect();
        let before = self.keeping_managers(&mut tx, &touched).await?;
        let p = &update.profile;
        sqlx::query(
            "UPDATE accounts SET facility_id = $3, name = $4, kana = $5, occupation = $6, occupation_other = $7, \
             email = $8, phone = $9, is_manager = $10, careplan = $11, updated_at_ms = $12 \
             WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id)
        .bind(municipality_id)
        .bind(&update.facility_id)
        .bind(p.name.as_str())
        .bind(p.kana.as_str())
        .bind(p.profession.occupation.code())
        .bind(&p.profession.other)
        .bind(p.email.as_ref().map(Email::as_str))
        .bind(p.phone.as_ref().map(PhoneNumber::as_str))
        .bind(update.is_manager)
        .bind(update.careplan)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        Self::check_managers(&mut tx, &touched, &before).await?;
        self.commit_with(tx, audit).await
    }

    async fn set_account_status(
        &self,
        municipality_id: &str,
        id: &str,
        status: AccountStatus,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let current = sqlx::query(
            "SELECT facility_id, identity_id FROM accounts WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id)
        .bind(municipality_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let facility: Option<String> = get(&current, "facility_id")?;
        let identity_id: String = get(&current, "identity_id")?;
        let touched: Vec<&str> = facility.iter().map(String::as_str).collect();
        let before = self.keeping_managers(&mut tx, &touched).await?;
        sqlx::query(
            "UPDATE accounts SET status = $3, updated_at_ms = $4 WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id)
        .bind(municipality_id)
        .bind(status.code())
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        Self::check_managers(&mut tx, &touched, &before).await?;
        if matches!(status, AccountStatus::Suspended | AccountStatus::Deleted) {
            // A stopped account is signed out at once.
            sqlx::query("UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND account_id = $2 AND revoked_at_ms IS NULL")
                .bind(&identity_id)
                .bind(id)
                .bind(audit.at_ms)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let mut audit = audit.clone();
        if status == AccountStatus::Deleted {
            // A deleted account leaves every room it was in; bringing it back later does not
            // bring the rooms back (a municipality invites it again).
            let left = sqlx::query(
                "UPDATE room_members SET left_at_ms = $3 WHERE account_id = $1 AND municipality_id = $2 \
                 AND left_at_ms IS NULL",
            )
            .bind(id)
            .bind(municipality_id)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if left > 0 {
                audit.detail = format!("{} rooms_left={left}", audit.detail).trim_start().to_string();
            }
        }
        self.commit_with(tx, &audit).await
    }

    async fn account(&self, id: &str) -> StoreResult<Account> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id WHERE a.id = $1"
        );
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(self.reader()).await.map_err(db_err)?;
        account_from(&row)
    }

    async fn accounts(&self, municipality_id: &str, facility_id: Option<&str>) -> StoreResult<Vec<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id \
             WHERE a.municipality_id = $1 AND ($2 IS NULL OR a.facility_id = $2) ORDER BY a.kana, a.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id)
            .bind(facility_id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(account_from).collect()
    }

    async fn accounts_of_identity(&self, identity_id: &str) -> StoreResult<Vec<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id \
             WHERE a.identity_id = $1 ORDER BY a.created_at_ms"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identity_id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(account_from).collect()
    }

    async fn identity(&self, id: &str) -> StoreResult<Identity> {
        let row = sqlx::query("SELECT * FROM identities WHERE id = $1")
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        identity_from(&row)
    }

    async fn identity_by_login(&self, login_id: &str) -> StoreResult<Option<Identity>> {
        let row = sqlx::query("SELECT * FROM identities WHERE login_id = $1")
            .bind(login_id)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(identity_from).transpose()
    }

    async fn set_password(
        &self,
        identity_id: &str,
        hash: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE identities SET password_hash = $2, password_changed_at_ms = $3 WHERE id = $1",
        )
        .bind(identity_id)
        .bind(hash)
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn set_second_factor(
        &self,
        identity_id: &str,
        totp_secret: Option<&[u8]>,
        recovery_code_hashes: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE identities SET totp_secret = $2, totp_last_step = 0 WHERE id = $1")
            .bind(identity_id)
            .bind(totp_secret)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE identity_id = $1")
            .bind(identity_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // A second factor set anew (or reset by an admin) starts without the old one's lock.
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(format!("second_factor:{identity_id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (identity_id, code_hash) VALUES ($1, $2)")
                .bind(identity_id)
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if totp_secret.is_none() {
            sqlx::query(
                "UPDATE sessions SET revoked_at_ms = $2 WHERE identity_id = $1 AND revoked_at_ms IS NULL",
            )
            .bind(identity_id)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        self.commit_with(tx, audit).await
    }

    async fn accept_totp_step(&self, identity_id: &str, step: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE identities SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                .bind(identity_id)
                .bind(step)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, identity_id: &str, code_hash: &str, at_ms: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at_ms = $3 WHERE identity_id = $1 AND code_hash = $2 AND used_at_ms IS NULL",
        )
        .bind(identity_id)
        .bind(code_hash)
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_recovery_codes(&self, identity_id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE identity_id = $1 AND used_at_ms IS NULL",
        )
        .bind(identity_id)
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        get(&row, "n")
    }

    async fn create_token(&self, token: &NewToken, audit: &AuditDraft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if token.purpose == TokenPurpose::Setup {
            // Only the newest setup link works.
            sqlx::query("UPDATE tokens SET used_at_ms = $1 WHERE purpose = 'setup' AND used_at_ms IS NULL")
                .bind(audit.at_ms)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if token.purpose == TokenPurpose::Activation {
            // Only the newest activation link of a person works: reissuing retires the others.
            sqlx::query(
                "UPDATE tokens SET used_at_ms = $2 WHERE purpose = 'activation' AND identity_id = $1 \
                 AND used_at_ms IS NULL",
            )
            .bind(&token.identity_id)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        Self::insert_token(&mut tx, token, audit.municipality_id.as_deref()).await?;
        self.commit_with(tx, audit).await
    }

    async fn token(&self, hash: &str, now_ms: i64) -> StoreResult<Token> {
        let row = sqlx::query(
            "SELECT purpose, identity_id, expires_at_ms FROM tokens \
             WHERE hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2",
        )
        .bind(hash)
        .bind(now_ms)
        .fetch_optional(self.reader())
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Err(StoreError::TokenInvalid) };
        let purpose = match get::<String>(&row, "purpose")?.as_str() {
            "setup" => TokenPurpose::Setup,
            _ => TokenPurpose::Activation,
        };
        Ok(Token {
            purpose,
            identity_id: get(&row, "identity_id")?,
            expires_at_ms: get(&row, "expires_at_ms")?,
        })
    }

    async fn complete_setup(
        &self,
        token_hash: &str,
        operator: &NewAccount,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Account> {
        let mut tx = self.begin().await?;
        Self::take_token(&mut tx, token_hash, TokenPurpose::Setup, now_ms).await?;
        let account =
            Self::insert_identity_and_account(&mut tx, operator, Some(password_hash), now_ms).await?;
        let mut audit = audit.clone();
        audit.object_id = account.id.clone();
        audit.actor_account_id = Some(account.id.clone());
        self.commit_with(tx, &audit).await?;
        Ok(account)
    }

    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Identity> {
        let mut tx = self.begin().await?;
        let identity_id = Self::take_token(&mut tx, token_hash, TokenPurpose::Activation, now_ms)
            .await?
            .ok_or(StoreError::TokenInvalid)?;
        // A link acts only on a person still waiting for activation: no password, no second
        // factor, an account pending. Checked in the update itself, so a second link posted at
        // the same moment finds the password already set.
        let set = sqlx::query(
            "UPDATE identities SET password_hash = $2, password_changed_at_ms = $3 \
             WHERE id = $1 AND password_hash IS NULL AND totp_secret IS NULL \
             AND EXISTS (SELECT 1 FROM accounts WHERE identity_id = $1 AND status = 'pending')",
        )
        .bind(&identity_id)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if set.rows_affected() == 0 {
            return Err(StoreError::TokenInvalid);
        }
        // Every other activation link of the person dies with this one.
        sqlx::query(
            "UPDATE tokens SET used_at_ms = $2 WHERE purpose = 'activation' AND identity_id = $1 \
             AND used_at_ms IS NULL",
        )
        .bind(&identity_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE accounts SET status = 'active', updated_at_ms = $2 WHERE identity_id = $1 AND status = 'pending'")
            .bind(&identity_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let row = sqlx::query("SELECT * FROM identities WHERE id = $1")
            .bind(&identity_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let identity = identity_from(&row)?;
        let mut audit = audit.clone();
        audit.object_id = identity_id;
        audit.actor_login = identity.login_id.to_string();
        self.commit_with(tx, &audit).await?;
        Ok(identity)
    }

    async fn throttle(&self, key: &str, now_ms: i64) -> StoreResult<Throttle> {
        let row = sqlx::query("SELECT failures, locked_until_ms FROM login_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(Throttle::default()) };
        let locked_until_ms: Option<i64> = get(&row, "locked_until_ms")?;
        Ok(Throttle {
            failures: get(&row, "failures")?,
            locked_until_ms: locked_until_ms.filter(|t| *t > now_ms),
        })
    }

    async fn claim_attempt(&self, key: &str, now_ms: i64, policy: &ThrottlePolicy) -> StoreResult<Attempt> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, first_failure_at_ms) VALUES ($1, 0, $2) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // The row is locked (PostgreSQL) or the database is (SQLite's single writer) from here to
        // the commit, so the check and the count are one step for every attempt on this key.
        let row = sqlx::query(dialect::LOCK_THROTTLE).bind(key).fetch_one(&mut *tx).await.map_err(db_err)?;
        let mut failures: i64 = get(&row, "failures")?;
        let mut first_failure_at_ms: i64 = get(&row, "first_failure_at_ms")?;
        let mut locked_until_ms: Option<i64> = get(&row, "locked_until_ms")?;
        if locked_until_ms.is_some_and(|t| t > now_ms) {
            tx.commit().await.map_err(db_err)?;
            return Ok(Attempt { allowed: false, throttle: Throttle { failures, locked_until_ms } });
        }
        // A lock that ran out, or failures older than the window, start a new count.
        if locked_until_ms.is_some() || first_failure_at_ms < now_ms - policy.window_ms {
            (failures, first_failure_at_ms, locked_until_ms) = (0, now_ms, None);
        }
        failures += 1;
        if failures >= policy.max_failures {
            locked_until_ms = Some(now_ms + policy.lock_ms);
        }
        sqlx::query(
            "UPDATE login_throttle SET failures = $2, first_failure_at_ms = $3, locked_until_ms = $4 WHERE key = $1",
        )
        .bind(key)
        .bind(failures)
        .bind(first_failure_at_ms)
        .bind(locked_until_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Attempt { allowed: true, throttle: Throttle { failures, locked_until_ms } })
    }

    async fn forgive_attempt(&self, key: &str, policy: &ThrottlePolicy) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1, \
             locked_until_ms = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until_ms END \
             WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .bind(policy.max_failures)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn sign_in_locks(&self, municipality_id: &str, now_ms: i64) -> StoreResult<Vec<SignInLock>> {
        let rows = sqlx::query(
            "SELECT a.id AS account_id, t.key, t.locked_until_ms FROM accounts a \
             JOIN identities i ON i.id = a.identity_id \
             JOIN login_throttle t ON t.key = 'login:' || i.login_id OR t.key = 'second_factor:' || i.id \
             WHERE a.municipality_id = $1 AND t.locked_until_ms > $2 ORDER BY a.id, t.key",
        )
        .bind(municipality_id)
        .bind(now_ms)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(SignInLock {
                    account_id: get(row, "account_id")?,
                    second_factor: get::<String>(row, "key")?.starts_with("second_factor:"),
                    locked_until_ms: get(row, "locked_until_ms")?,
                })
            })
            .collect()
    }

    async fn release_sign_in_locks(&self, identity_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT login_id FROM identities WHERE id = $1")
            .bind(identity_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let login_id: String = get(&row, "login_id")?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1 OR key = $2")
            .bind(format!("login:{login_id}"))
            .bind(format!("second_factor:{identity_id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, identity_id, account_id, municipality_id, created_at_ms, \
             last_seen_at_ms, idle_timeout_ms, expires_at_ms, second_factor_done, ip, user_agent) \
             SELECT $1, $2, $3, $4, a.municipality_id, $5, $5, $6, $7, FALSE, $8, $9 FROM accounts a WHERE a.id = $4",
        )
        .bind(&s.id)
        .bind(&s.token_hash)
        .bind(&s.identity_id)
        .bind(&s.account_id)
        .bind(s.created_at_ms)
        .bind(s.idle_timeout_ms)
        .bind(s.expires_at_ms)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1 AND {LIVE_SESSION}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(session_from).transpose()
    }

    async fn touch_session(&self, id: &str, now_ms: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at_ms = $2 WHERE id = $1 AND last_seen_at_ms < $2")
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn complete_second_factor(&self, id: &str, now_ms: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET second_factor_done = TRUE, last_seen_at_ms = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn sessions_of_identity(&self, identity_id: &str, now_ms: i64) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE identity_id = $1 AND {LIVE_SESSION} ORDER BY created_at_ms DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identity_id)
            .bind(now_ms)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(session_from).collect()
    }

    async fn revoke_session(&self, identity_id: &str, id: &str, now_ms: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(identity_id)
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_sessions(&self, identity_id: &str, keep: Option<&str>, now_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND revoked_at_ms IS NULL \
             AND ($2 IS NULL OR id <> $2)",
        )
        .bind(identity_id)
        .bind(keep)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn open_room(
        &self,
        municipality_id: &str,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room> {
        self.rooms_open_room(municipality_id, patient, consent, audit).await
    }

    async fn patient(&self, municipality_id: &str, id: &str) -> StoreResult<Patient> {
        self.rooms_patient(municipality_id, id).await
    }

    async fn consent_of(&self, municipality_id: &str, patient_id: &str) -> StoreResult<Consent> {
        self.rooms_consent_of(municipality_id, patient_id).await
    }

    async fn withdraw_consent(
        &self,
        municipality_id: &str,
        patient_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.rooms_withdraw_consent(municipality_id, patient_id, audit).await
    }

    async fn room(&self, municipality_id: &str, id: &str) -> StoreResult<Room> {
        self.rooms_room(municipality_id, id).await
    }

    async fn rooms(&self, municipality_id: &str) -> StoreResult<Vec<Room>> {
        self.rooms_rooms(municipality_id).await
    }

    async fn add_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.rooms_add_member(municipality_id, room_id, account_id, audit).await
    }

    async fn remove_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.rooms_remove_member(municipality_id, room_id, account_id, audit).await
    }

    async fn members(&self, municipality_id: &str, room_id: &str) -> StoreResult<Vec<Member>> {
        self.rooms_members(municipality_id, room_id).await
    }

    async fn my_rooms(&self, account_id: &str) -> StoreResult<Vec<RoomSummary>> {
        self.rooms_my_rooms(account_id).await
    }

    async fn authorize_room(&self, account_id: &str, room_id: &str) -> StoreResult<Option<RoomAccess>> {
        self.rooms_authorize(account_id, room_id).await
    }

    async fn oversee_room(
        &self,
        municipality_id: &str,
        admin_account_id: &str,
        room_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<RoomAccess> {
        self.rooms_oversee(municipality_id, admin_account_id, room_id, audit).await
    }

    async fn request(
        &self,
        access: &RoomAccess,
        request: &NewRoomRequest,
        audit: &AuditDraft,
    ) -> StoreResult<RequestStatus> {
        self.rooms_request(access, request, audit).await
    }

    async fn room_requests(
        &self,
        municipality_id: &str,
        room_id: Option<&str>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>> {
        self.rooms_requests(municipality_id, room_id, pending_only).await
    }

    async fn decide_request(
        &self,
        municipality_id: &str,
        request_id: &str,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.rooms_decide(municipality_id, request_id, approve, note, audit).await
    }

    async fn create_post(
        &self,
        access: &RoomAccess,
        post: &NewPost,
        audit: &AuditDraft,
    ) -> StoreResult<PostView> {
        self.rooms_create_post(access, post, audit).await
    }

    async fn timeline(
        &self,
        access: &RoomAccess,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>> {
        self.rooms_timeline(access, before, limit).await
    }

    async fn post(&self, access: &RoomAccess, post_id: &str) -> StoreResult<PostView> {
        self.rooms_post(access, post_id).await
    }

    async fn replies(&self, access: &RoomAccess, post_ids: &[String]) -> StoreResult<Vec<PostView>> {
        self.rooms_replies(access, post_ids).await
    }

    async fn record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<u64> {
        self.rooms_record_read(access, post_ids, audit).await
    }

    async fn mark_room_read(&self, access: &RoomAccess, audit: &AuditDraft) -> StoreResult<u64> {
        self.rooms_mark_room_read(access, audit).await
    }

    async fn readers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>> {
        self.rooms_readers(access, post_id, false).await
    }

    async fn acknowledgers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>> {
        self.rooms_readers(access, post_id, true).await
    }

    async fn acknowledge(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        self.rooms_acknowledge(access, post_id, audit).await
    }

    async fn edit_post(
        &self,
        access: &RoomAccess,
        post_id: &str,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.rooms_edit_post(access, post_id, text, audit).await
    }

    async fn delete_post(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        self.rooms_delete_post(access, post_id, audit).await
    }

    async fn post_versions(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<PostVersion>> {
        self.rooms_post_versions(access, post_id).await
    }

    async fn attachment(&self, access: &RoomAccess, attachment_id: &str) -> StoreResult<Attachment> {
        self.rooms_attachment(access, attachment_id).await
    }

    async fn attachment_keys(&self) -> StoreResult<Vec<String>> {
        self.rooms_attachment_keys().await
    }

    async fn changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool> {
        self.rooms_changed_since(access, since_ms).await
    }

    async fn vitals(&self, access: &RoomAccess) -> StoreResult<Vec<VitalsPoint>> {
        self.rooms_vitals(access).await
    }

    async fn announce(&self, room_id: &str) -> StoreResult<bool> {
        self.announce_room(room_id).await
    }

    async fn announcements(&self) -> StoreResult<Option<Announcements>> {
        self.listen_rooms().await
    }

    async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<()> {
        let tx = self.begin().await?;
        self.commit_with(tx, draft).await
    }

    async fn facilities_by_care_provider_no(&self, care_provider_no: &str) -> StoreResult<Vec<Facility>> {
        self.careplan_facility_by_office(care_provider_no).await
    }

    async fn create_careplan_set(&self, new: &NewCareplanSet, audit: &AuditDraft) -> StoreResult<String> {
        self.careplan_create(new, audit).await
    }

    async fn careplan_sets(&self, facility_id: &str) -> StoreResult<Vec<CareplanSetSummary>> {
        self.careplan_list(facility_id).await
    }

    async fn careplan_set(&self, facility_id: &str, id: &str) -> StoreResult<CareplanSet> {
        self.careplan_get(facility_id, id).await
    }

    async fn send_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.careplan_send(facility_id, id, at_ms, audit).await
    }

    async fn acknowledge_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        account_id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.careplan_acknowledge(facility_id, id, account_id, at_ms, audit).await
    }

    async fn audit_entries(&self, chain: &str, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_events WHERE chain = $1 AND ($2 IS NULL OR at_ms >= $2) AND ($3 IS NULL OR at_ms < $3) \
             AND ($4 IS NULL OR actor_login = $4) AND ($5 IS NULL OR action LIKE $5) \
             ORDER BY seq DESC LIMIT $6",
        )
        .bind(chain)
        .bind(filter.from_ms)
        .bind(filter.until_ms)
        .bind(&filter.actor_login)
        .bind(filter.action_prefix.as_ref().map(|p| format!("{}%", p.replace(['%', '_'], ""))))
        .bind(filter.limit)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chain(&self, chain: &str) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE chain = $1 ORDER BY seq")
            .bind(chain)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chain_from(&self, chain: &str, from_seq: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE chain = $1 AND seq >= $2 ORDER BY seq")
            .bind(chain)
            .bind(from_seq)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chains(&self) -> StoreResult<Vec<String>> {
        // A chain whose head row was deleted still shows through its entries.
        let rows = sqlx::query(
            "SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit_events ORDER BY chain",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| get(r, "chain")).collect()
    }

    async fn audit_heads(&self) -> StoreResult<Vec<AuditHead>> {
        let rows = sqlx::query("SELECT chain, seq, seal FROM audit_heads ORDER BY chain")
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok(AuditHead { chain: get(r, "chain")?, seq: get(r, "seq")?, seal: get(r, "seal")? }))
            .collect()
    }
}

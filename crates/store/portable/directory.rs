//! The directory in portable SQL (A1–A3): municipalities, facilities, identities, accounts and
//! one-time links. A change that could leave a facility without its システム利用管理担当者
//! locks the facility first and is refused if it would.

pub(crate) mod rows;

use async_trait::async_trait;
use renraku_domain::audit::CHAIN_OPENED_DETAIL;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{AccountStatus, Email, FacilityNumber, PhoneNumber};
use renraku_store::*;

use self::rows::{ACCOUNT_COLUMNS, account_from, bind_facility, identity_from, municipality_from};
pub(crate) use self::rows::{FACILITY_COLUMNS, facility_from};
use super::{Tx, db_err, get, get_opt_id, taken};
use crate::{SqlStore, dialect};

impl SqlStore {
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
            dialect::lock_facility(tx, facility).await?;
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
        let identity_id: IdentityId = new_id();
        sqlx::query(
            "INSERT INTO identities (id, login_id, password_hash, password_changed_at_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(identity_id.as_str())
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
        .bind(account.id.as_str())
        .bind(account.identity_id.as_str())
        .bind(account.municipality_id.as_deref())
        .bind(account.facility_id.as_deref())
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
        .bind(token.identity_id.as_deref())
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
        dialect::lock_care_provider_no(tx, number.as_str()).await?;
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

#[async_trait]
impl DirectoryStore for SqlStore {
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
        .bind(m.id.as_str())
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
        audit.object_id = m.id.to_string();
        // The municipality's own chain starts with the municipality, so that a chain deleted
        // whole (entries and head row) is missed, and one started again is noticed.
        let opened = AuditDraft {
            municipality_id: Some(m.id.clone()),
            action: AuditAction::AuditChainOpened,
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

    async fn municipality(&self, id: &MunicipalityId) -> StoreResult<Municipality> {
        let row = sqlx::query("SELECT * FROM municipalities WHERE id = $1")
            .bind(id.as_str())
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

    async fn rename_municipality(
        &self,
        id: &MunicipalityId,
        name: &renraku_domain::directory::Name,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE municipalities SET name = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(name.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn update_municipality_settings(
        &self,
        id: &MunicipalityId,
        settings: &MunicipalitySettings,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE municipalities SET pw_min_length = $2, pw_max_age_days = $3, idle_timeout_secs = $4, \
             absolute_timeout_secs = $5, care_manager_may_invite = $6 WHERE id = $1",
        )
        .bind(id.as_str())
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
        municipality_id: &MunicipalityId,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Facility> {
        let id: FacilityId = new_id();
        let mut tx = self.begin().await?;
        Self::care_provider_no_free(&mut tx, info.care_provider_no.as_ref(), &id).await?;
        let query = sqlx::query(
            "INSERT INTO facilities (id, municipality_id, created_at_ms, updated_at_ms, corp_name, corp_kana, \
             corp_representative, corp_postal_code, corp_address, corp_phone, name, kana, postal_code, address, \
             phone, email, service_category, medical_institution_no, care_provider_no, administrator) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(id.as_str())
        .bind(municipality_id.as_str())
        .bind(audit.at_ms);
        bind_facility(query, info).execute(&mut *tx).await.map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id.to_string();
        self.commit_with(tx, &audit).await?;
        self.facility(municipality_id, &id).await
    }

    async fn update_facility(
        &self,
        municipality_id: &MunicipalityId,
        id: &FacilityId,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // A number the facility already had stays (two facilities may share one from before
        // the rule; routing refuses it until the operator releases one); a new one must be free.
        let current: Option<String> = sqlx::query_scalar(
            "SELECT care_provider_no FROM facilities WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.as_str())
        .bind(municipality_id.as_str())
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
        .bind(id.as_str())
        .bind(municipality_id.as_str())
        .bind(audit.at_ms);
        let done = bind_facility(query, info).execute(&mut *tx).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn facility(&self, municipality_id: &MunicipalityId, id: &FacilityId) -> StoreResult<Facility> {
        let sql =
            format!("SELECT {FACILITY_COLUMNS} FROM facilities f WHERE f.id = $1 AND f.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        facility_from(&row)
    }

    async fn facilities(&self, municipality_id: &MunicipalityId) -> StoreResult<Vec<Facility>> {
        let sql = format!(
            "SELECT {FACILITY_COLUMNS} FROM facilities f WHERE f.municipality_id = $1 ORDER BY f.kana"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id.as_str())
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
        audit.object_id = account.id.to_string();
        self.commit_with(tx, &audit).await?;
        Ok(account)
    }

    async fn update_account(
        &self,
        municipality_id: &MunicipalityId,
        id: &AccountId,
        update: &AccountUpdate,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let current = sqlx::query("SELECT facility_id FROM accounts WHERE id = $1 AND municipality_id = $2")
            .bind(id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let old_facility: Option<String> = get(&current, "facility_id")?;
        if let Some(f) = &update.facility_id {
            Self::facility_in(&mut tx, municipality_id, f).await?;
        }
        let touched: Vec<&str> =
            old_facility.iter().map(String::as_str).chain(update.facility_id.as_deref()).collect();
        let before = self.keeping_managers(&mut tx, &touched).await?;
        let p = &update.profile;
        sqlx::query(
            "UPDATE accounts SET facility_id = $3, name = $4, kana = $5, occupation = $6, occupation_other = $7, \
             email = $8, phone = $9, is_manager = $10, careplan = $11, updated_at_ms = $12 \
             WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.as_str())
        .bind(municipality_id.as_str())
        .bind(update.facility_id.as_deref())
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
        municipality_id: &MunicipalityId,
        id: &AccountId,
        status: AccountStatus,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let current = sqlx::query(
            "SELECT facility_id, identity_id FROM accounts WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.as_str())
        .bind(municipality_id.as_str())
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
        .bind(id.as_str())
        .bind(municipality_id.as_str())
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
                .bind(id.as_str())
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
            .bind(id.as_str())
            .bind(municipality_id.as_str())
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

    async fn account(&self, id: &AccountId) -> StoreResult<Account> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id WHERE a.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        account_from(&row)
    }

    async fn accounts(
        &self,
        municipality_id: &MunicipalityId,
        facility_id: Option<&FacilityId>,
    ) -> StoreResult<Vec<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id \
             WHERE a.municipality_id = $1 AND ($2 IS NULL OR a.facility_id = $2) ORDER BY a.kana, a.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id.as_str())
            .bind(facility_id.map(|f| f.as_str()))
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(account_from).collect()
    }

    async fn accounts_of_identity(&self, identity_id: &IdentityId) -> StoreResult<Vec<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN identities i ON i.id = a.identity_id \
             WHERE a.identity_id = $1 ORDER BY a.created_at_ms"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identity_id.as_str())
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(account_from).collect()
    }

    async fn identity(&self, id: &IdentityId) -> StoreResult<Identity> {
        let row = sqlx::query("SELECT * FROM identities WHERE id = $1")
            .bind(id.as_str())
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
        identity_id: &IdentityId,
        hash: &str,
        at_ms: i64,
        keep_session: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE identities SET password_hash = $2, password_changed_at_ms = $3 WHERE id = $1",
        )
        .bind(identity_id.as_str())
        .bind(hash)
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Whoever knew the old password is signed out with it, in the same step.
        sqlx::query("UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND id <> $2 AND revoked_at_ms IS NULL")
            .bind(identity_id.as_str())
            .bind(keep_session)
            .bind(at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
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
            .bind(token.identity_id.as_deref())
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
            identity_id: get_opt_id(&row, "identity_id")?,
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
        audit.object_id = account.id.to_string();
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
}

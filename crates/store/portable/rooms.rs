//! Patients, consent, rooms and memberships in portable SQL (D1–D3), and the requests that
//! change them (D6, D7). Only this file makes a [`RoomAccess`]: after checking membership, or
//! after recording an oversight read.

use anyhow::anyhow;
use async_trait::async_trait;
use renraku_domain::dates::BirthDate;
use renraku_domain::directory::{InsuredNo, InsurerNo, Occupation};
use renraku_domain::rooms::{CareLevel, Sex};
use renraku_store::*;

use super::posts::in_list;
use super::{Tx, code, get, get_id, get_opt_id, occupation_label};
use crate::{DbRow, SqlStore};

/// Store errors of room queries: a second membership of the same account is "taken".
pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Taken("member"),
        other => StoreError::Other(anyhow!(other)),
    }
}

const ROOM_COLUMNS: &str =
    "r.id, r.municipality_id, r.patient_id, r.name, r.status, r.created_at_ms, r.last_post_at_ms";

fn room_from(row: &DbRow) -> StoreResult<Room> {
    let status = match get::<String>(row, "status")?.as_str() {
        "open" => RoomStatus::Open,
        _ => RoomStatus::ReadOnly,
    };
    Ok(Room {
        id: get_id(row, "id")?,
        municipality_id: get_id(row, "municipality_id")?,
        patient_id: get_id(row, "patient_id")?,
        name: get(row, "name")?,
        status,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

const REQUEST_COLUMNS: &str = "q.id, q.room_id, r.name AS room_name, q.kind, q.requested_by, a.name AS requester_name, \
    q.target_account_id, t.name AS target_name, q.closing_reason, q.note, q.status, q.decision_note, q.created_at_ms";

fn request_from(row: &DbRow) -> StoreResult<RoomRequest> {
    let status = RequestStatus::from_code(&get::<String>(row, "status")?).unwrap_or(RequestStatus::Pending);
    let reason: Option<String> = get(row, "closing_reason")?;
    Ok(RoomRequest {
        id: get_id(row, "id")?,
        room_id: get_id(row, "room_id")?,
        room_name: get(row, "room_name")?,
        kind: code(get(row, "kind")?, RequestKind::from_code)?,
        requested_by: get_id(row, "requested_by")?,
        requester_name: get(row, "requester_name")?,
        target_account_id: get_opt_id(row, "target_account_id")?,
        target_name: get(row, "target_name")?,
        closing_reason: reason.and_then(|r| ClosingReason::from_code(&r)),
        note: get(row, "note")?,
        status,
        decision_note: get(row, "decision_note")?,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

impl SqlStore {
    /// Inside a write: the account is still a current member and the room still open.
    pub(super) async fn writable(tx: &mut Tx, access: &RoomAccess) -> StoreResult<()> {
        if access.kind() != AccessKind::Member {
            return Err(StoreError::NotAllowed);
        }
        let row = sqlx::query(
            "SELECT r.status FROM rooms r JOIN room_members m ON m.room_id = r.id \
             WHERE r.id = $1 AND m.account_id = $2 AND m.left_at_ms IS NULL",
        )
        .bind(access.room().id.as_str())
        .bind(access.account_id().as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
        match row {
            Some(row) if get::<String>(&row, "status")? == "open" => Ok(()),
            _ => Err(StoreError::NotAllowed),
        }
    }

    /// Starts a membership: only an active professional of this municipality (never an admin,
    /// never a patient), and not one who is a member already.
    async fn insert_membership(
        tx: &mut Tx,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "SELECT id FROM accounts WHERE id = $1 AND municipality_id = $2 AND role = 'member' AND status = 'active'",
        )
        .bind(account_id)
        .bind(municipality_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO room_members (id, municipality_id, room_id, account_id, joined_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id::<MembershipId>().as_str())
        .bind(municipality_id)
        .bind(room_id)
        .bind(account_id)
        .bind(at_ms)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Applies an approved request inside `tx`.
    async fn apply_request(
        tx: &mut Tx,
        municipality_id: &str,
        room_id: &str,
        request: &NewRoomRequest,
        at_ms: i64,
    ) -> StoreResult<()> {
        match request.kind {
            RequestKind::AddMember => {
                let account = request.target_account_id.as_deref().ok_or(StoreError::NotFound)?;
                Self::insert_membership(tx, municipality_id, room_id, account, at_ms).await
            }
            RequestKind::RemoveMember => {
                let account = request.target_account_id.as_deref().ok_or(StoreError::NotFound)?;
                sqlx::query("UPDATE room_members SET left_at_ms = $3 WHERE room_id = $1 AND account_id = $2 AND left_at_ms IS NULL")
                    .bind(room_id)
                    .bind(account)
                    .bind(at_ms)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
            RequestKind::Close => {
                sqlx::query(
                    "UPDATE rooms SET status = 'read_only', closed_at_ms = $2, closing_reason = $3 WHERE id = $1",
                )
                .bind(room_id)
                .bind(at_ms)
                .bind(request.closing_reason.map(ClosingReason::code))
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
                Ok(())
            }
        }
    }
}

#[async_trait]
impl RoomStore for SqlStore {
    async fn open_room(
        &self,
        municipality_id: &MunicipalityId,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room> {
        let now = audit.at_ms;
        let patient_id: PatientId = new_id();
        let room = Room {
            id: new_id(),
            municipality_id: municipality_id.clone(),
            patient_id: patient_id.clone(),
            name: format!("{}さん", patient.name),
            status: RoomStatus::Open,
            created_at_ms: now,
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO patients (id, municipality_id, name, kana, birth_date, sex, address, phone, insurer_no, \
             insured_no, care_level, contacts, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(patient_id.as_str())
        .bind(municipality_id.as_str())
        .bind(&patient.name)
        .bind(&patient.kana)
        .bind(patient.birth_date.as_str())
        .bind(patient.sex.code())
        .bind(&patient.address)
        .bind(&patient.phone)
        .bind(patient.insurer_no.as_ref().map(InsurerNo::as_str))
        .bind(patient.insured_no.as_ref().map(InsuredNo::as_str))
        .bind(patient.care_level.code())
        .bind(&patient.contacts)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let (proxy_name, proxy_relation) = consent.proxy.clone().unzip();
        let (family_name, family_relation) = consent.family.clone().unzip();
        sqlx::query(
            "INSERT INTO consents (id, municipality_id, patient_id, consented_on, proxy_name, proxy_relation, \
             family_name, family_relation, explainer_facility, explainer_name, recorded_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id::<ConsentId>().as_str())
        .bind(municipality_id.as_str())
        .bind(patient_id.as_str())
        .bind(&consent.consented_on)
        .bind(proxy_name)
        .bind(proxy_relation)
        .bind(family_name)
        .bind(family_relation)
        .bind(&consent.explainer_facility)
        .bind(&consent.explainer_name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO rooms (id, municipality_id, patient_id, name, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, 'open', $5)",
        )
        .bind(room.id.as_str())
        .bind(municipality_id.as_str())
        .bind(patient_id.as_str())
        .bind(&room.name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = room.id.to_string();
        self.commit_with(tx, &audit).await?;
        Ok(room)
    }

    async fn patient(&self, municipality_id: &MunicipalityId, id: &PatientId) -> StoreResult<Patient> {
        let row = sqlx::query("SELECT * FROM patients WHERE id = $1 AND municipality_id = $2")
            .bind(id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        Ok(Patient {
            id: get_id(&row, "id")?,
            municipality_id: get_id(&row, "municipality_id")?,
            info: PatientInfo {
                name: get(&row, "name")?,
                kana: get(&row, "kana")?,
                birth_date: BirthDate::from_trusted(get(&row, "birth_date")?),
                sex: code(get(&row, "sex")?, Sex::from_code)?,
                address: get(&row, "address")?,
                phone: get(&row, "phone")?,
                insurer_no: get::<Option<String>>(&row, "insurer_no")?.map(InsurerNo::from_trusted),
                insured_no: get::<Option<String>>(&row, "insured_no")?.map(InsuredNo::from_trusted),
                care_level: code(get(&row, "care_level")?, CareLevel::from_code)?,
                contacts: get(&row, "contacts")?,
            },
        })
    }

    async fn consent_of(
        &self,
        municipality_id: &MunicipalityId,
        patient_id: &PatientId,
    ) -> StoreResult<Consent> {
        let row = sqlx::query(
            "SELECT * FROM consents WHERE patient_id = $1 AND municipality_id = $2 ORDER BY recorded_at_ms DESC LIMIT 1",
        )
        .bind(patient_id.as_str())
        .bind(municipality_id.as_str())
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        let pair = |a: Option<String>, b: Option<String>| a.map(|a| (a, b.unwrap_or_default()));
        Ok(Consent {
            id: get_id(&row, "id")?,
            patient_id: get_id(&row, "patient_id")?,
            info: ConsentInfo {
                consented_on: get(&row, "consented_on")?,
                proxy: pair(get(&row, "proxy_name")?, get(&row, "proxy_relation")?),
                family: pair(get(&row, "family_name")?, get(&row, "family_relation")?),
                explainer_facility: get(&row, "explainer_facility")?,
                explainer_name: get(&row, "explainer_name")?,
            },
            withdrawn_at_ms: get(&row, "withdrawn_at_ms")?,
        })
    }

    async fn withdraw_consent(
        &self,
        municipality_id: &MunicipalityId,
        patient_id: &PatientId,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE consents SET withdrawn_at_ms = $3 WHERE patient_id = $1 AND municipality_id = $2 \
             AND withdrawn_at_ms IS NULL",
        )
        .bind(patient_id.as_str())
        .bind(municipality_id.as_str())
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE rooms SET status = 'read_only' WHERE patient_id = $1 AND municipality_id = $2")
            .bind(patient_id.as_str())
            .bind(municipality_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn room(&self, municipality_id: &MunicipalityId, id: &RoomId) -> StoreResult<Room> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 AND r.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        room_from(&row)
    }

    async fn rooms(&self, municipality_id: &MunicipalityId) -> StoreResult<Vec<Room>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.municipality_id = $1 ORDER BY r.created_at_ms DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id.as_str())
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(room_from).collect()
    }

    async fn add_member(
        &self,
        municipality_id: &MunicipalityId,
        room_id: &RoomId,
        account_id: &AccountId,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT id FROM rooms WHERE id = $1 AND municipality_id = $2")
            .bind(room_id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        Self::insert_membership(&mut tx, municipality_id, room_id, account_id, audit.at_ms).await?;
        self.commit_with(tx, audit).await
    }

    async fn remove_member(
        &self,
        municipality_id: &MunicipalityId,
        room_id: &RoomId,
        account_id: &AccountId,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE room_members SET left_at_ms = $4 WHERE room_id = $1 AND account_id = $2 AND municipality_id = $3 \
             AND left_at_ms IS NULL",
        )
        .bind(room_id.as_str())
        .bind(account_id.as_str())
        .bind(municipality_id.as_str())
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    async fn members(&self, municipality_id: &MunicipalityId, room_id: &RoomId) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.name, a.occupation, a.occupation_other, COALESCE(f.name, '') AS facility, \
             m.joined_at_ms, m.left_at_ms FROM room_members m JOIN accounts a ON a.id = m.account_id \
             LEFT JOIN facilities f ON f.id = a.facility_id \
             WHERE m.room_id = $1 AND m.municipality_id = $2 ORDER BY m.left_at_ms IS NOT NULL, a.kana, m.joined_at_ms",
        )
        .bind(room_id.as_str())
        .bind(municipality_id.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    account_id: get_id(row, "account_id")?,
                    name: get(row, "name")?,
                    occupation: occupation_label(row, "occupation", "occupation_other")?,
                    facility: get(row, "facility")?,
                    joined_at_ms: get(row, "joined_at_ms")?,
                    left_at_ms: get(row, "left_at_ms")?,
                })
            })
            .collect()
    }

    async fn my_rooms(&self, account_id: &AccountId) -> StoreResult<Vec<RoomSummary>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS}, (SELECT COUNT(*) FROM posts p WHERE p.room_id = r.id AND p.author_account_id <> $1 \
                AND p.deleted_at_ms IS NULL AND p.created_at_ms >= m.joined_at_ms \
                AND NOT EXISTS (SELECT 1 FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1)) AS unread, \
             (SELECT COUNT(*) FROM post_mentions pm JOIN posts p ON p.id = pm.post_id WHERE pm.account_id = $1 \
                AND pm.room_id = r.id AND p.deleted_at_ms IS NULL \
                AND NOT EXISTS (SELECT 1 FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1)) AS unread_mentions, \
             (SELECT COUNT(*) FROM posts p WHERE p.room_id = r.id AND p.author_account_id <> $1 AND p.importance = 'urgent' \
                AND p.deleted_at_ms IS NULL AND p.created_at_ms >= m.joined_at_ms \
                AND NOT EXISTS (SELECT 1 FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1)) AS unread_urgent, \
             (SELECT p.id FROM posts p WHERE p.room_id = r.id AND p.deleted_at_ms IS NULL \
                ORDER BY p.created_at_ms DESC, p.id DESC LIMIT 1) AS latest_id \
             FROM room_members m JOIN rooms r ON r.id = m.room_id \
             WHERE m.account_id = $1 AND m.left_at_ms IS NULL \
             ORDER BY COALESCE(r.last_post_at_ms, r.created_at_ms) DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id.as_str())
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        // The latest visible post of each room, read by id in one query.
        let latest_ids: Vec<String> = rows
            .iter()
            .map(|row| get::<Option<String>>(row, "latest_id"))
            .collect::<StoreResult<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        let mut latest = std::collections::HashMap::new();
        if !latest_ids.is_empty() {
            let mut q = in_list("SELECT id, created_at_ms, body FROM posts WHERE id", &latest_ids, "");
            for row in q.build().fetch_all(self.reader()).await.map_err(db_err)? {
                let id: String = get(&row, "id")?;
                latest.insert(id, (get::<i64>(&row, "created_at_ms")?, get::<String>(&row, "body")?));
            }
        }
        rows.iter()
            .map(|row| {
                let latest_id: Option<String> = get(row, "latest_id")?;
                Ok(RoomSummary {
                    room: room_from(row)?,
                    unread: get(row, "unread")?,
                    unread_mentions: get(row, "unread_mentions")?,
                    unread_urgent: get(row, "unread_urgent")?,
                    last_post_at_ms: get(row, "last_post_at_ms")?,
                    latest: latest_id.and_then(|id| latest.remove(&id)),
                })
            })
            .collect()
    }

    async fn authorize_room(
        &self,
        account_id: &AccountId,
        room_id: &RoomId,
    ) -> StoreResult<Option<RoomAccess>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r JOIN room_members m ON m.room_id = r.id \
             JOIN accounts a ON a.id = m.account_id \
             WHERE r.id = $1 AND m.account_id = $2 AND m.left_at_ms IS NULL AND a.status = 'active'"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id.as_str())
            .bind(account_id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        row.map(|r| Ok(RoomAccess::granted_by_store(room_from(&r)?, account_id.clone(), AccessKind::Member)))
            .transpose()
    }

    async fn oversee_room(
        &self,
        municipality_id: &MunicipalityId,
        admin_account_id: &AccountId,
        room_id: &RoomId,
        audit: &AuditDraft,
    ) -> StoreResult<RoomAccess> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT id FROM accounts WHERE id = $1 AND municipality_id = $2 AND role = 'admin' AND status = 'active'")
            .bind(admin_account_id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::RowNotFound => StoreError::NotAllowed,
                e => db_err(e),
            })?;
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 AND r.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id.as_str())
            .bind(municipality_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let room = room_from(&row)?;
        self.commit_with(tx, audit).await?;
        Ok(RoomAccess::granted_by_store(room, admin_account_id.clone(), AccessKind::Oversight))
    }

    async fn request(
        &self,
        access: &RoomAccess,
        request: &NewRoomRequest,
        audit: &AuditDraft,
    ) -> StoreResult<RequestStatus> {
        let room = access.room();
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        match request.kind {
            RequestKind::AddMember | RequestKind::RemoveMember => {
                let target = request.target_account_id.as_deref().ok_or(StoreError::NotFound)?;
                let current = sqlx::query("SELECT id FROM room_members WHERE room_id = $1 AND account_id = $2 AND left_at_ms IS NULL")
                    .bind(room.id.as_str())
                    .bind(target)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .is_some();
                if current == (request.kind == RequestKind::AddMember) {
                    return Err(StoreError::Taken("member"));
                }
                sqlx::query(
                    "SELECT id FROM accounts WHERE id = $1 AND municipality_id = $2 AND role = 'member'",
                )
                .bind(target)
                .bind(room.municipality_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            RequestKind::Close if request.closing_reason.is_none() => return Err(StoreError::NotFound),
            RequestKind::Close => {}
        }
        // The municipality may let the room's care manager invite without waiting.
        let row = sqlx::query(
            "SELECT m.care_manager_may_invite, a.occupation FROM municipalities m, accounts a \
             WHERE m.id = $1 AND a.id = $2",
        )
        .bind(room.municipality_id.as_str())
        .bind(access.account_id().as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let allowed: bool = get(&row, "care_manager_may_invite")?;
        let occupation: String = get(&row, "occupation")?;
        let status = RequestStatus::on_request(request.kind, allowed, Occupation::from_code(&occupation));
        let direct = status.applies();
        if direct {
            Self::apply_request(&mut tx, &room.municipality_id, &room.id, request, audit.at_ms).await?;
        }
        let id = new_id::<RequestId>().to_string();
        sqlx::query(
            "INSERT INTO room_requests (id, municipality_id, room_id, kind, requested_by, target_account_id, closing_reason, \
             note, status, decided_by, decided_at_ms, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(room.municipality_id.as_str())
        .bind(room.id.as_str())
        .bind(request.kind.code())
        .bind(access.account_id().as_str())
        .bind(request.target_account_id.as_deref())
        .bind(request.closing_reason.map(ClosingReason::code))
        .bind(&request.note)
        .bind(status.code())
        .bind(direct.then(|| access.account_id().to_string()))
        .bind(direct.then_some(audit.at_ms))
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id;
        audit.detail = format!("{} room={} status={}", audit.detail, room.id, status.code());
        self.commit_with(tx, &audit).await?;
        Ok(status)
    }

    async fn room_requests(
        &self,
        municipality_id: &MunicipalityId,
        room_id: Option<&RoomId>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM room_requests q JOIN rooms r ON r.id = q.room_id \
             JOIN accounts a ON a.id = q.requested_by LEFT JOIN accounts t ON t.id = q.target_account_id \
             WHERE q.municipality_id = $1 AND ($2 IS NULL OR q.room_id = $2) AND ($3 = FALSE OR q.status = 'pending') \
             ORDER BY q.created_at_ms DESC, q.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id.as_str())
            .bind(room_id.map(|r| r.as_str()))
            .bind(pending_only)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(request_from).collect()
    }

    async fn decide_request(
        &self,
        municipality_id: &MunicipalityId,
        request_id: &RequestId,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT room_id, kind, target_account_id, closing_reason, note, status FROM room_requests \
             WHERE id = $1 AND municipality_id = $2",
        )
        .bind(request_id.as_str())
        .bind(municipality_id.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let room_id: String = get(&row, "room_id")?;
        let reason: Option<String> = get(&row, "closing_reason")?;
        let request = NewRoomRequest {
            kind: code(get(&row, "kind")?, RequestKind::from_code)?,
            target_account_id: get_opt_id(&row, "target_account_id")?,
            closing_reason: reason.and_then(|r| ClosingReason::from_code(&r)),
            note: get(&row, "note")?,
        };
        // A request decided already is, for this decision, not there.
        let status = code(get(&row, "status")?, RequestStatus::from_code)?
            .decide(approve)
            .map_err(|NotPending| StoreError::NotFound)?;
        if status.applies() {
            Self::apply_request(&mut tx, municipality_id, &room_id, &request, audit.at_ms).await?;
        }
        sqlx::query(
            "UPDATE room_requests SET status = $2, decided_by = $3, decided_at_ms = $4, decision_note = $5 WHERE id = $1",
        )
        .bind(request_id.as_str())
        .bind(status.code())
        .bind(audit.actor_account_id.as_deref())
        .bind(audit.at_ms)
        .bind(note)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }
}

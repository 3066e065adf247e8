//! Rooms and posts in portable SQL (D1–D5), included by both backends next to `sql_store.rs`.
//! The trait methods in `sql_store.rs` delegate here. Every query on room content takes a
//! [`RoomAccess`]; writes re-check membership and the room's state inside their transaction,
//! so an access proof that went stale (member removed, consent withdrawn) writes nothing.

use anyhow::anyhow;
use renraku_domain::directory::Occupation;
use renraku_domain::rooms::{CareLevel, Importance, PostCategory, PostText, Sex, Vitals};
use renraku_store::*;
use sqlx::QueryBuilder;

use crate::portable::{code, get};
use crate::{Db, DbRow, SqlStore};

type Tx = sqlx::Transaction<'static, Db>;

fn db_err(e: sqlx::Error) -> StoreError {
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
        id: get(row, "id")?,
        municipality_id: get(row, "municipality_id")?,
        patient_id: get(row, "patient_id")?,
        name: get(row, "name")?,
        status,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

fn occupation_label(row: &DbRow, code_column: &str, other_column: &str) -> StoreResult<String> {
    let other: Option<String> = get(row, other_column)?;
    let occupation = code(get(row, code_column)?, Occupation::from_code)?;
    Ok(other.unwrap_or_else(|| occupation.label().to_string()))
}

/// The columns of a post as one reader sees it; `$1` is the reader's account id.
const POST_COLUMNS: &str = "p.id, p.room_id, p.parent_id, p.author_account_id, a.name AS author_name, \
    a.occupation AS author_occupation, a.occupation_other AS author_occupation_other, p.category, p.importance, \
    p.body, p.ack_requested, p.systolic, p.diastolic, p.pulse, p.temperature_tenths, p.spo2, p.respiration, \
    p.weight_tenths, p.glucose, p.created_at_ms, p.edited_at_ms, p.deleted_at_ms, \
    (SELECT COUNT(*) FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id) AS read_count, \
    (SELECT COUNT(*) FROM post_acks pk WHERE pk.post_id = p.id) AS ack_count, \
    (SELECT COUNT(*) FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1) AS read_by_me, \
    (SELECT COUNT(*) FROM post_acks pk WHERE pk.post_id = p.id AND pk.account_id = $1) AS acked_by_me, \
    (SELECT COUNT(*) FROM post_mentions pm WHERE pm.post_id = p.id AND pm.account_id = $1) AS mentions_me";

fn vitals_from(row: &DbRow) -> StoreResult<Vitals> {
    Ok(Vitals {
        systolic: get(row, "systolic")?,
        diastolic: get(row, "diastolic")?,
        pulse: get(row, "pulse")?,
        temperature_tenths: get(row, "temperature_tenths")?,
        spo2: get(row, "spo2")?,
        respiration: get(row, "respiration")?,
        weight_tenths: get(row, "weight_tenths")?,
        glucose: get(row, "glucose")?,
    })
}

fn post_from(row: &DbRow) -> StoreResult<PostView> {
    let deleted_at_ms: Option<i64> = get(row, "deleted_at_ms")?;
    let body: String = if deleted_at_ms.is_some() { String::new() } else { get(row, "body")? };
    Ok(PostView {
        id: get(row, "id")?,
        room_id: get(row, "room_id")?,
        parent_id: get(row, "parent_id")?,
        author_account_id: get(row, "author_account_id")?,
        author_name: get(row, "author_name")?,
        author_occupation: occupation_label(row, "author_occupation", "author_occupation_other")?,
        category: code(get(row, "category")?, PostCategory::from_code)?,
        importance: code(get(row, "importance")?, Importance::from_code)?,
        text: PostText::from_trusted(body),
        ack_requested: get(row, "ack_requested")?,
        vitals: if deleted_at_ms.is_some() { Vitals::default() } else { vitals_from(row)? },
        created_at_ms: get(row, "created_at_ms")?,
        edited_at_ms: get(row, "edited_at_ms")?,
        deleted_at_ms,
        read_count: get(row, "read_count")?,
        ack_count: get(row, "ack_count")?,
        read_by_me: get::<i64>(row, "read_by_me")? > 0,
        acked_by_me: get::<i64>(row, "acked_by_me")? > 0,
        mentioned: vec![],
        attachments: vec![],
        mentions_me: get::<i64>(row, "mentions_me")? > 0,
    })
}

fn attachment_from(row: &DbRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        name: get(row, "name")?,
        size: get(row, "size")?,
        width: get(row, "width")?,
        height: get(row, "height")?,
        content_key: get(row, "content_key")?,
        thumb_key: get(row, "thumb_key")?,
    })
}

fn reader_from(row: &DbRow) -> StoreResult<Reader> {
    Ok(Reader { account_id: get(row, "account_id")?, name: get(row, "name")?, at_ms: get(row, "at_ms")? })
}

/// `head IN (ids…) tail`, with the ids bound.
fn in_list(head: &str, ids: &[String], tail: &str) -> QueryBuilder<Db> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(head);
    q.push(" IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.clone());
    }
    q.push(")");
    q.push(tail);
    q
}

impl SqlStore {
    /// Fills in the names of the members each post mentions, and the attachments.
    async fn with_mentions_and_files(&self, mut posts: Vec<PostView>) -> StoreResult<Vec<PostView>> {
        if posts.is_empty() {
            return Ok(posts);
        }
        // One query each for the whole page, not one per post.
        let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
        let mut q = in_list(
            "SELECT pm.post_id, a.name FROM post_mentions pm JOIN accounts a ON a.id = pm.account_id WHERE pm.post_id",
            &ids,
            " ORDER BY a.kana",
        );
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        for row in &rows {
            let post_id: String = get(row, "post_id")?;
            if let Some(p) = posts.iter_mut().find(|p| p.id == post_id) {
                p.mentioned.push(get(row, "name")?);
            }
        }
        let mut q = in_list("SELECT * FROM attachments WHERE post_id", &ids, " ORDER BY created_at_ms, id");
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        for row in &rows {
            let post_id: String = get(row, "post_id")?;
            if let Some(p) = posts.iter_mut().find(|p| p.id == post_id && p.deleted_at_ms.is_none()) {
                p.attachments.push(attachment_from(row)?);
            }
        }
        Ok(posts)
    }

    /// Inside a write: the account is still a current member and the room still open.
    async fn writable(tx: &mut Tx, access: &RoomAccess) -> StoreResult<()> {
        if access.kind() != AccessKind::Member {
            return Err(StoreError::NotAllowed);
        }
        let row = sqlx::query(
            "SELECT r.status FROM rooms r JOIN room_members m ON m.room_id = r.id \
             WHERE r.id = $1 AND m.account_id = $2 AND m.left_at_ms IS NULL",
        )
        .bind(&access.room().id)
        .bind(access.account_id())
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
        .bind(new_id())
        .bind(municipality_id)
        .bind(room_id)
        .bind(account_id)
        .bind(at_ms)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// The caller's own live post in this room.
    async fn own_post(tx: &mut Tx, access: &RoomAccess, post_id: &str) -> StoreResult<String> {
        let row = sqlx::query(
            "SELECT author_account_id, body FROM posts WHERE id = $1 AND room_id = $2 AND deleted_at_ms IS NULL",
        )
        .bind(post_id)
        .bind(&access.room().id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        if get::<String>(&row, "author_account_id")? != access.account_id() {
            return Err(StoreError::NotAllowed);
        }
        get(&row, "body")
    }

    pub(crate) async fn rooms_open_room(
        &self,
        municipality_id: &str,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room> {
        let now = audit.at_ms;
        let patient_id = new_id();
        let room = Room {
            id: new_id(),
            municipality_id: municipality_id.to_string(),
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
        .bind(&patient_id)
        .bind(municipality_id)
        .bind(&patient.name)
        .bind(&patient.kana)
        .bind(&patient.birth_date)
        .bind(patient.sex.code())
        .bind(&patient.address)
        .bind(&patient.phone)
        .bind(&patient.insurer_no)
        .bind(&patient.insured_no)
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
        .bind(new_id())
        .bind(municipality_id)
        .bind(&patient_id)
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
        .bind(&room.id)
        .bind(municipality_id)
        .bind(&patient_id)
        .bind(&room.name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = room.id.clone();
        self.commit_with(tx, &audit).await?;
        Ok(room)
    }

    pub(crate) async fn rooms_patient(&self, municipality_id: &str, id: &str) -> StoreResult<Patient> {
        let row = sqlx::query("SELECT * FROM patients WHERE id = $1 AND municipality_id = $2")
            .bind(id)
            .bind(municipality_id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        Ok(Patient {
            id: get(&row, "id")?,
            municipality_id: get(&row, "municipality_id")?,
            info: PatientInfo {
                name: get(&row, "name")?,
                kana: get(&row, "kana")?,
                birth_date: get(&row, "birth_date")?,
                sex: code(get(&row, "sex")?, Sex::from_code)?,
                address: get(&row, "address")?,
                phone: get(&row, "phone")?,
                insurer_no: get(&row, "insurer_no")?,
                insured_no: get(&row, "insured_no")?,
                care_level: code(get(&row, "care_level")?, CareLevel::from_code)?,
                contacts: get(&row, "contacts")?,
            },
        })
    }

    pub(crate) async fn rooms_consent_of(
        &self,
        municipality_id: &str,
        patient_id: &str,
    ) -> StoreResult<Consent> {
        let row = sqlx::query(
            "SELECT * FROM consents WHERE patient_id = $1 AND municipality_id = $2 ORDER BY recorded_at_ms DESC LIMIT 1",
        )
        .bind(patient_id)
        .bind(municipality_id)
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        let pair = |a: Option<String>, b: Option<String>| a.map(|a| (a, b.unwrap_or_default()));
        Ok(Consent {
            id: get(&row, "id")?,
            patient_id: get(&row, "patient_id")?,
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

    pub(crate) async fn rooms_withdraw_consent(
        &self,
        municipality_id: &str,
        patient_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE consents SET withdrawn_at_ms = $3 WHERE patient_id = $1 AND municipality_id = $2 \
             AND withdrawn_at_ms IS NULL",
        )
        .bind(patient_id)
        .bind(municipality_id)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE rooms SET status = 'read_only' WHERE patient_id = $1 AND municipality_id = $2")
            .bind(patient_id)
            .bind(municipality_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_room(&self, municipality_id: &str, id: &str) -> StoreResult<Room> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 AND r.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(municipality_id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        room_from(&row)
    }

    pub(crate) async fn rooms_rooms(&self, municipality_id: &str) -> StoreResult<Vec<Room>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.municipality_id = $1 ORDER BY r.created_at_ms DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(room_from).collect()
    }

    pub(crate) async fn rooms_add_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT id FROM rooms WHERE id = $1 AND municipality_id = $2")
            .bind(room_id)
            .bind(municipality_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        Self::insert_membership(&mut tx, municipality_id, room_id, account_id, audit.at_ms).await?;
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_remove_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE room_members SET left_at_ms = $4 WHERE room_id = $1 AND account_id = $2 AND municipality_id = $3 \
             AND left_at_ms IS NULL",
        )
        .bind(room_id)
        .bind(account_id)
        .bind(municipality_id)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_members(
        &self,
        municipality_id: &str,
        room_id: &str,
    ) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.name, a.occupation, a.occupation_other, COALESCE(f.name, '') AS facility, \
             m.joined_at_ms, m.left_at_ms FROM room_members m JOIN accounts a ON a.id = m.account_id \
             LEFT JOIN facilities f ON f.id = a.facility_id \
             WHERE m.room_id = $1 AND m.municipality_id = $2 ORDER BY m.left_at_ms IS NOT NULL, a.kana, m.joined_at_ms",
        )
        .bind(room_id)
        .bind(municipality_id)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    account_id: get(row, "account_id")?,
                    name: get(row, "name")?,
                    occupation: occupation_label(row, "occupation", "occupation_other")?,
                    facility: get(row, "facility")?,
                    joined_at_ms: get(row, "joined_at_ms")?,
                    left_at_ms: get(row, "left_at_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn rooms_my_rooms(&self, account_id: &str) -> StoreResult<Vec<RoomSummary>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS}, (SELECT COUNT(*) FROM posts p WHERE p.room_id = r.id AND p.author_account_id <> $1 \
                AND p.deleted_at_ms IS NULL AND p.created_at_ms >= m.joined_at_ms \
                AND NOT EXISTS (SELECT 1 FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1)) AS unread, \
             (SELECT COUNT(*) FROM post_mentions pm JOIN posts p ON p.id = pm.post_id WHERE pm.account_id = $1 \
                AND pm.room_id = r.id AND p.deleted_at_ms IS NULL \
                AND NOT EXISTS (SELECT 1 FROM post_reads pr WHERE pr.room_id = p.room_id AND pr.post_id = p.id AND pr.account_id = $1)) AS unread_mentions \
             FROM room_members m JOIN rooms r ON r.id = m.room_id \
             WHERE m.account_id = $1 AND m.left_at_ms IS NULL \
             ORDER BY COALESCE(r.last_post_at_ms, r.created_at_ms) DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(RoomSummary {
                    room: room_from(row)?,
                    unread: get(row, "unread")?,
                    unread_mentions: get(row, "unread_mentions")?,
                    last_post_at_ms: get(row, "last_post_at_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn rooms_authorize(
        &self,
        account_id: &str,
        room_id: &str,
    ) -> StoreResult<Option<RoomAccess>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r JOIN room_members m ON m.room_id = r.id \
             JOIN accounts a ON a.id = m.account_id \
             WHERE r.id = $1 AND m.account_id = $2 AND m.left_at_ms IS NULL AND a.status = 'active'"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id)
            .bind(account_id)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(RoomAccess::granted_by_store(room_from(&r)?, account_id.to_string(), AccessKind::Member))
        })
        .transpose()
    }

    pub(crate) async fn rooms_oversee(
        &self,
        municipality_id: &str,
        admin_account_id: &str,
        room_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<RoomAccess> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT id FROM accounts WHERE id = $1 AND municipality_id = $2 AND role = 'admin' AND status = 'active'")
            .bind(admin_account_id)
            .bind(municipality_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::RowNotFound => StoreError::NotAllowed,
                e => db_err(e),
            })?;
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 AND r.municipality_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id)
            .bind(municipality_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let room = room_from(&row)?;
        self.commit_with(tx, audit).await?;
        Ok(RoomAccess::granted_by_store(room, admin_account_id.to_string(), AccessKind::Oversight))
    }

    pub(crate) async fn rooms_create_post(
        &self,
        access: &RoomAccess,
        post: &NewPost,
        audit: &AuditDraft,
    ) -> StoreResult<PostView> {
        let id = new_id();
        let now = audit.at_ms;
        let mut tx = self.begin().await?;
        // The same form sent again: the post it wrote the first time.
        if let Some(key) = &post.idempotency_key {
            let sql = "SELECT id FROM posts WHERE author_account_id = $1 AND idempotency_key = $2";
            let row = sqlx::query(sql)
                .bind(access.account_id())
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if let Some(row) = row {
                drop(tx);
                return self.rooms_post(access, &get::<String>(&row, "id")?).await;
            }
        }
        Self::writable(&mut tx, access).await?;
        if let Some(parent) = &post.parent_id {
            // Replies hang under a top-level post of the same room.
            sqlx::query("SELECT id FROM posts WHERE id = $1 AND room_id = $2 AND parent_id IS NULL")
                .bind(parent)
                .bind(&access.room().id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let v = &post.vitals;
        let inserted = sqlx::query(
            "INSERT INTO posts (id, municipality_id, room_id, parent_id, author_account_id, category, importance, body, \
             ack_requested, systolic, diastolic, pulse, temperature_tenths, spo2, respiration, weight_tenths, glucose, \
             created_at_ms, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&id)
        .bind(&access.room().municipality_id)
        .bind(&access.room().id)
        .bind(&post.parent_id)
        .bind(access.account_id())
        .bind(post.category.code())
        .bind(post.importance.code())
        .bind(post.text.as_str())
        .bind(post.ack_requested)
        .bind(v.systolic)
        .bind(v.diastolic)
        .bind(v.pulse)
        .bind(v.temperature_tenths)
        .bind(v.spo2)
        .bind(v.respiration)
        .bind(v.weight_tenths)
        .bind(v.glucose)
        .bind(now)
        .bind(&post.idempotency_key)
        .execute(&mut *tx)
        .await;
        match (inserted, &post.idempotency_key) {
            (Ok(_), _) => {}
            // Sent twice at the same moment: the other sending wrote it (PostgreSQL; SQLite has
            // one writer, so the check above saw it).
            (Err(sqlx::Error::Database(d)), Some(key)) if d.is_unique_violation() => {
                drop(tx);
                let row =
                    sqlx::query("SELECT id FROM posts WHERE author_account_id = $1 AND idempotency_key = $2")
                        .bind(access.account_id())
                        .bind(key)
                        .fetch_one(self.reader())
                        .await
                        .map_err(db_err)?;
                return self.rooms_post(access, &get::<String>(&row, "id")?).await;
            }
            (Err(e), _) => return Err(db_err(e)),
        }
        for account in &post.mentions {
            // Only current members of this room can be mentioned.
            let done = sqlx::query(
                "INSERT INTO post_mentions (post_id, account_id, room_id) SELECT $1, m.account_id, m.room_id \
                 FROM room_members m WHERE m.room_id = $2 AND m.account_id = $3 AND m.left_at_ms IS NULL \
                 ON CONFLICT (post_id, account_id) DO NOTHING",
            )
            .bind(&id)
            .bind(&access.room().id)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 && account != access.account_id() {
                return Err(StoreError::NotMember);
            }
        }
        for a in &post.attachments {
            sqlx::query(
                "INSERT INTO attachments (id, municipality_id, room_id, post_id, kind, name, size, width, height, \
                 content_key, thumb_key, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&a.id)
            .bind(&access.room().municipality_id)
            .bind(&access.room().id)
            .bind(&id)
            .bind(&a.kind)
            .bind(&a.name)
            .bind(a.size)
            .bind(a.width)
            .bind(a.height)
            .bind(&a.content_key)
            .bind(&a.thumb_key)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        sqlx::query("UPDATE rooms SET last_post_at_ms = $2 WHERE id = $1")
            .bind(&access.room().id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id.clone();
        self.commit_with(tx, &audit).await?;
        self.rooms_post(access, &id).await
    }

    pub(crate) async fn rooms_timeline(
        &self,
        access: &RoomAccess,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.author_account_id \
             WHERE p.room_id = $2 AND p.parent_id IS NULL AND ($3 IS NULL OR p.id < $3) ORDER BY p.id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(access.account_id())
            .bind(&access.room().id)
            .bind(before)
            .bind(limit)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        let posts = rows.iter().map(post_from).collect::<StoreResult<Vec<_>>>()?;
        self.with_mentions_and_files(posts).await
    }

    pub(crate) async fn rooms_post(&self, access: &RoomAccess, post_id: &str) -> StoreResult<PostView> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.author_account_id \
             WHERE p.id = $2 AND p.room_id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(access.account_id())
            .bind(post_id)
            .bind(&access.room().id)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        let post = post_from(&row)?;
        Ok(self.with_mentions_and_files(vec![post]).await?.remove(0))
    }

    pub(crate) async fn rooms_replies(
        &self,
        access: &RoomAccess,
        post_ids: &[String],
    ) -> StoreResult<Vec<PostView>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        // The shared column list names the reader as $1; bind them in each place instead.
        let mut q: QueryBuilder<Db> = QueryBuilder::new("SELECT ");
        let mut parts = POST_COLUMNS.split("$1");
        q.push(parts.next().unwrap_or_default());
        for part in parts {
            q.push_bind(access.account_id().to_string());
            q.push(part);
        }
        q.push(" FROM posts p JOIN accounts a ON a.id = p.author_account_id WHERE p.room_id = ");
        q.push_bind(access.room().id.clone());
        q.push(" AND p.parent_id IN (");
        let mut list = q.separated(", ");
        for id in post_ids {
            list.push_bind(id.clone());
        }
        q.push(") ORDER BY p.id");
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        let replies = rows.iter().map(post_from).collect::<StoreResult<Vec<_>>>()?;
        self.with_mentions_and_files(replies).await
    }

    pub(crate) async fn rooms_record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut added = 0;
        if access.kind() == AccessKind::Member && !post_ids.is_empty() {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO post_reads (post_id, account_id, room_id, read_at_ms) SELECT p.id, ",
            );
            q.push_bind(access.account_id().to_string());
            q.push(", p.room_id, ");
            q.push_bind(audit.at_ms);
            q.push(" FROM posts p WHERE p.room_id = ");
            q.push_bind(access.room().id.clone());
            q.push(" AND p.author_account_id <> ");
            q.push_bind(access.account_id().to_string());
            q.push(" AND p.id IN (");
            let mut list = q.separated(", ");
            for id in post_ids {
                list.push_bind(id.clone());
            }
            q.push(") ON CONFLICT (room_id, post_id, account_id) DO NOTHING");
            added = q.build().execute(&mut *tx).await.map_err(db_err)?.rows_affected();
        }
        let mut audit = audit.clone();
        if audit.detail.is_empty() {
            audit.detail = format!("posts={} new_receipts={added}", post_ids.len());
        }
        self.commit_with(tx, &audit).await?;
        Ok(added)
    }

    pub(crate) async fn rooms_mark_room_read(
        &self,
        access: &RoomAccess,
        audit: &AuditDraft,
    ) -> StoreResult<u64> {
        if access.kind() != AccessKind::Member {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let added = sqlx::query(
            "INSERT INTO post_reads (post_id, account_id, room_id, read_at_ms) \
             SELECT p.id, $2, p.room_id, $3 FROM posts p WHERE p.room_id = $1 AND p.author_account_id <> $2 \
             AND p.deleted_at_ms IS NULL \
             AND NOT EXISTS (SELECT 1 FROM post_reads r WHERE r.room_id = $1 AND r.post_id = p.id AND r.account_id = $2) \
             ON CONFLICT (room_id, post_id, account_id) DO NOTHING",
        )
        .bind(&access.room().id)
        .bind(access.account_id())
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if added == 0 {
            // Nothing changed: nothing to record.
            tx.rollback().await.map_err(db_err)?;
            return Ok(0);
        }
        let mut audit = audit.clone();
        audit.detail = format!("posts={added}");
        self.commit_with(tx, &audit).await?;
        Ok(added)
    }

    pub(crate) async fn rooms_readers(
        &self,
        access: &RoomAccess,
        post_id: &str,
        acks: bool,
    ) -> StoreResult<Vec<Reader>> {
        let sql = if acks {
            "SELECT k.account_id, a.name, k.acked_at_ms AS at_ms FROM post_acks k JOIN accounts a ON a.id = k.account_id \
             JOIN posts p ON p.id = k.post_id WHERE k.post_id = $1 AND p.room_id = $2 ORDER BY k.acked_at_ms"
        } else {
            "SELECT r.account_id, a.name, r.read_at_ms AS at_ms FROM post_reads r JOIN accounts a ON a.id = r.account_id \
             JOIN posts p ON p.id = r.post_id WHERE r.room_id = $2 AND r.post_id = $1 AND p.room_id = $2 ORDER BY r.read_at_ms"
        };
        let rows = sqlx::query(sql)
            .bind(post_id)
            .bind(&access.room().id)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(reader_from).collect()
    }

    pub(crate) async fn rooms_acknowledge(
        &self,
        access: &RoomAccess,
        post_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        let done = sqlx::query(
            "INSERT INTO post_acks (post_id, account_id, acked_at_ms) SELECT p.id, $2, $3 FROM posts p \
             WHERE p.id = $1 AND p.room_id = $4 AND p.ack_requested = TRUE AND p.deleted_at_ms IS NULL \
             ON CONFLICT (post_id, account_id) DO NOTHING",
        )
        .bind(post_id)
        .bind(access.account_id())
        .bind(audit.at_ms)
        .bind(&access.room().id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(());
        }
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_edit_post(
        &self,
        access: &RoomAccess,
        post_id: &str,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        let old = Self::own_post(&mut tx, access, post_id).await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM post_versions WHERE post_id = $1")
            .bind(post_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let version = get::<i64>(&row, "n")? + 1;
        sqlx::query(
            "INSERT INTO post_versions (post_id, version, body, replaced_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(post_id)
        .bind(version)
        .bind(&old)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE posts SET body = $2, edited_at_ms = $3 WHERE id = $1")
            .bind(post_id)
            .bind(text.as_str())
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_delete_post(
        &self,
        access: &RoomAccess,
        post_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        Self::own_post(&mut tx, access, post_id).await?;
        sqlx::query("UPDATE posts SET deleted_at_ms = $2 WHERE id = $1")
            .bind(post_id)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    pub(crate) async fn rooms_post_versions(
        &self,
        access: &RoomAccess,
        post_id: &str,
    ) -> StoreResult<Vec<PostVersion>> {
        let rows = sqlx::query(
            "SELECT v.version, v.body, v.replaced_at_ms FROM post_versions v JOIN posts p ON p.id = v.post_id \
             WHERE v.post_id = $1 AND p.room_id = $2 AND p.deleted_at_ms IS NULL ORDER BY v.version DESC",
        )
        .bind(post_id)
        .bind(&access.room().id)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(PostVersion {
                    version: get(row, "version")?,
                    text: PostText::from_trusted(get(row, "body")?),
                    replaced_at_ms: get(row, "replaced_at_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn rooms_attachment(
        &self,
        access: &RoomAccess,
        attachment_id: &str,
    ) -> StoreResult<Attachment> {
        let row = sqlx::query(
            "SELECT f.* FROM attachments f JOIN posts p ON p.id = f.post_id \
             WHERE f.id = $1 AND f.room_id = $2 AND p.deleted_at_ms IS NULL",
        )
        .bind(attachment_id)
        .bind(&access.room().id)
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        attachment_from(&row)
    }

    pub(crate) async fn rooms_attachment_keys(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT content_key AS k FROM attachments UNION ALL \
             SELECT thumb_key AS k FROM attachments WHERE thumb_key IS NOT NULL",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(|row| get::<String>(row, "k")).collect()
    }

    pub(crate) async fn rooms_changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM posts p WHERE p.room_id = $1 AND (p.created_at_ms >= $2 OR p.edited_at_ms >= $2 \
                OR p.deleted_at_ms >= $2)) \
             + (SELECT COUNT(*) FROM post_reads r WHERE r.room_id = $1 AND r.read_at_ms >= $2) \
             + (SELECT COUNT(*) FROM post_acks k JOIN posts p ON p.id = k.post_id WHERE p.room_id = $1 AND k.acked_at_ms >= $2) \
             AS n",
        )
        .bind(&access.room().id)
        .bind(since_ms)
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    pub(crate) async fn rooms_vitals(&self, access: &RoomAccess) -> StoreResult<Vec<VitalsPoint>> {
        let rows = sqlx::query(
            "SELECT * FROM posts WHERE room_id = $1 AND deleted_at_ms IS NULL AND (systolic IS NOT NULL \
             OR diastolic IS NOT NULL OR pulse IS NOT NULL OR temperature_tenths IS NOT NULL OR spo2 IS NOT NULL \
             OR respiration IS NOT NULL OR weight_tenths IS NOT NULL OR glucose IS NOT NULL) ORDER BY created_at_ms",
        )
        .bind(&access.room().id)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| Ok(VitalsPoint { at_ms: get(row, "created_at_ms")?, vitals: vitals_from(row)? }))
            .collect()
    }
}

const REQUEST_COLUMNS: &str = "q.id, q.room_id, r.name AS room_name, q.kind, q.requested_by, a.name AS requester_name, \
    q.target_account_id, t.name AS target_name, q.closing_reason, q.note, q.status, q.decision_note, q.created_at_ms";

fn request_from(row: &DbRow) -> StoreResult<RoomRequest> {
    let status = match get::<String>(row, "status")?.as_str() {
        "approved" => RequestStatus::Approved,
        "rejected" => RequestStatus::Rejected,
        _ => RequestStatus::Pending,
    };
    let reason: Option<String> = get(row, "closing_reason")?;
    Ok(RoomRequest {
        id: get(row, "id")?,
        room_id: get(row, "room_id")?,
        room_name: get(row, "room_name")?,
        kind: code(get(row, "kind")?, RequestKind::from_code)?,
        requested_by: get(row, "requested_by")?,
        requester_name: get(row, "requester_name")?,
        target_account_id: get(row, "target_account_id")?,
        target_name: get(row, "target_name")?,
        closing_reason: reason.and_then(|r| ClosingReason::from_code(&r)),
        note: get(row, "note")?,
        status,
        decision_note: get(row, "decision_note")?,
        created_at_ms: get(row, "created_at_ms")?,
    })
}

impl SqlStore {
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

    pub(crate) async fn rooms_request(
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
                    .bind(&room.id)
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
                .bind(&room.municipality_id)
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
        .bind(&room.municipality_id)
        .bind(access.account_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let allowed: bool = get(&row, "care_manager_may_invite")?;
        let occupation: String = get(&row, "occupation")?;
        let direct = request.kind == RequestKind::AddMember
            && allowed
            && matches!(occupation.as_str(), "care_manager" | "chief_care_manager");
        let status = if direct { RequestStatus::Approved } else { RequestStatus::Pending };
        if direct {
            Self::apply_request(&mut tx, &room.municipality_id, &room.id, request, audit.at_ms).await?;
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO room_requests (id, municipality_id, room_id, kind, requested_by, target_account_id, closing_reason, \
             note, status, decided_by, decided_at_ms, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&room.municipality_id)
        .bind(&room.id)
        .bind(request.kind.code())
        .bind(access.account_id())
        .bind(&request.target_account_id)
        .bind(request.closing_reason.map(ClosingReason::code))
        .bind(&request.note)
        .bind(if direct { "approved" } else { "pending" })
        .bind(direct.then(|| access.account_id().to_string()))
        .bind(direct.then_some(audit.at_ms))
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id;
        audit.detail = format!(
            "{} room={} status={}",
            audit.detail,
            room.id,
            if direct { "approved" } else { "pending" }
        );
        self.commit_with(tx, &audit).await?;
        Ok(status)
    }

    pub(crate) async fn rooms_requests(
        &self,
        municipality_id: &str,
        room_id: Option<&str>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM room_requests q JOIN rooms r ON r.id = q.room_id \
             JOIN accounts a ON a.id = q.requested_by LEFT JOIN accounts t ON t.id = q.target_account_id \
             WHERE q.municipality_id = $1 AND ($2 IS NULL OR q.room_id = $2) AND ($3 = FALSE OR q.status = 'pending') \
             ORDER BY q.created_at_ms DESC, q.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(municipality_id)
            .bind(room_id)
            .bind(pending_only)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(request_from).collect()
    }

    pub(crate) async fn rooms_decide(
        &self,
        municipality_id: &str,
        request_id: &str,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT room_id, kind, target_account_id, closing_reason, note FROM room_requests \
             WHERE id = $1 AND municipality_id = $2 AND status = 'pending'",
        )
        .bind(request_id)
        .bind(municipality_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let room_id: String = get(&row, "room_id")?;
        let reason: Option<String> = get(&row, "closing_reason")?;
        let request = NewRoomRequest {
            kind: code(get(&row, "kind")?, RequestKind::from_code)?,
            target_account_id: get(&row, "target_account_id")?,
            closing_reason: reason.and_then(|r| ClosingReason::from_code(&r)),
            note: get(&row, "note")?,
        };
        if approve {
            Self::apply_request(&mut tx, municipality_id, &room_id, &request, audit.at_ms).await?;
        }
        sqlx::query(
            "UPDATE room_requests SET status = $2, decided_by = $3, decided_at_ms = $4, decision_note = $5 WHERE id = $1",
        )
        .bind(request_id)
        .bind(if approve { "approved" } else { "rejected" })
        .bind(&audit.actor_account_id)
        .bind(audit.at_ms)
        .bind(note)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }
}

//! Care-plan exchange in portable SQL (F1–F4). A set is visible to its sender facility, and to
//! its receiver once sent.

use async_trait::async_trait;
use renraku_store::*;

use super::directory::{FACILITY_COLUMNS, facility_from};
use super::{Tx, db_err, get, get_id, get_opt_id, taken};
use crate::{Db, DbRow, SqlStore};

const SET_COLUMNS: &str = "s.id, s.kind, s.stamp, s.month, s.sender_facility_id, sf.name AS sender_facility_name, \
    s.receiver_facility_id, rf.name AS receiver_facility_name, s.sender_office, s.receiver_office, \
    s.uploaded_at_ms, s.sent_at_ms, s.acknowledged_at_ms, a.name AS acknowledged_by_name, s.withdrawn_by \
    FROM careplan_sets s JOIN facilities sf ON sf.id = s.sender_facility_id \
    JOIN facilities rf ON rf.id = s.receiver_facility_id LEFT JOIN accounts a ON a.id = s.acknowledged_by";

/// Who may see a set: `$1` is the viewer's facility.
const VISIBLE: &str =
    "(s.sender_facility_id = $1 OR (s.receiver_facility_id = $1 AND s.sent_at_ms IS NOT NULL))";

fn summary_from(row: &DbRow) -> StoreResult<CareplanSetSummary> {
    Ok(CareplanSetSummary {
        id: get_id(row, "id")?,
        kind: get(row, "kind")?,
        stamp: get(row, "stamp")?,
        month: get(row, "month")?,
        sender_facility_id: get_id(row, "sender_facility_id")?,
        sender_facility_name: get(row, "sender_facility_name")?,
        receiver_facility_id: get_id(row, "receiver_facility_id")?,
        receiver_facility_name: get(row, "receiver_facility_name")?,
        sender_office: get(row, "sender_office")?,
        receiver_office: get(row, "receiver_office")?,
        uploaded_at_ms: get(row, "uploaded_at_ms")?,
        sent_at_ms: get(row, "sent_at_ms")?,
        acknowledged_at_ms: get(row, "acknowledged_at_ms")?,
        acknowledged_by_name: get(row, "acknowledged_by_name")?,
        withdrawn_by: get_opt_id(row, "withdrawn_by")?,
        subjects: Vec::new(),
    })
}

/// The set kinds a deletion withdraws. 介護予防 (仕様 3.3): a 利用者基本情報_削除 withdraws the
/// 利用者基本情報 sets (their 別表 and image travel in them); a 介護予防サービス・支援計画書_削除
/// withdraws the plan sets, those that carry a 利用者基本情報 too (3.4 (2), keyed by the plan's
/// 計画作成(変更)日). A 利用者基本情報_削除 leaves a 3.4 (2) set standing: its plan still holds.
fn withdraws(kind: &str) -> &'static [&'static str] {
    match kind {
        "plan_deletion" => &["plan"],
        "provision_deletion" => &["provision"],
        "actual_deletion" => &["actual"],
        "kihon_deletion" => &["kihon"],
        "yobo_deletion" => &["yobo", "yobo_kihon"],
        _ => &[],
    }
}

/// The deletion kind that withdraws a set of this kind.
fn withdrawn_by(kind: &str) -> Option<&'static str> {
    match kind {
        "plan" => Some("plan_deletion"),
        "provision" => Some("provision_deletion"),
        "actual" => Some("actual_deletion"),
        "kihon" => Some("kihon_deletion"),
        "yobo" | "yobo_kihon" => Some("yobo_deletion"),
        _ => None,
    }
}

impl SqlStore {
    async fn careplan_subjects(&self, ids: &[String]) -> StoreResult<Vec<(String, CareplanSubject)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
            "SELECT s.set_id, s.insurer_no, s.insured_no, s.record_key, s.name, s.patient_id, s.withdrawn_by, \
             p.name AS patient_name FROM careplan_subjects s LEFT JOIN patients p ON p.id = s.patient_id \
             WHERE s.set_id IN (",
        );
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.clone());
        }
        q.push(") ORDER BY s.insurer_no, s.insured_no, s.record_key");
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok((
                    get(row, "set_id")?,
                    CareplanSubject {
                        insurer_no: get(row, "insurer_no")?,
                        insured_no: get(row, "insured_no")?,
                        record_key: get(row, "record_key")?,
                        name: get(row, "name")?,
                        patient_id: get_opt_id(row, "patient_id")?,
                        patient_name: get(row, "patient_name")?,
                        withdrawn_by: get_opt_id(row, "withdrawn_by")?,
                    },
                ))
            })
            .collect()
    }

    /// Writes one set with its files and subjects inside `tx`; its id.
    async fn insert_careplan_set(tx: &mut Tx, new: &NewCareplanSet) -> StoreResult<CareplanSetId> {
        let id: CareplanSetId = new_id();
        sqlx::query(
            "INSERT INTO careplan_sets (id, kind, stamp, month, sender_facility_id, receiver_facility_id, \
             sender_office, receiver_office, uploaded_by, uploaded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.as_str())
        .bind(&new.kind)
        .bind(&new.stamp)
        .bind(&new.month)
        .bind(new.sender_facility_id.as_str())
        .bind(new.receiver_facility_id.as_str())
        .bind(&new.sender_office)
        .bind(&new.receiver_office)
        .bind(new.uploaded_by.as_str())
        .bind(new.uploaded_at_ms)
        .execute(&mut **tx)
        .await
        .map_err(taken("careplan_set"))?;
        for (position, file) in new.files.iter().enumerate() {
            sqlx::query("INSERT INTO careplan_files (set_id, position, name, kind, bytes) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.as_str())
                .bind(position as i64)
                .bind(&file.name)
                .bind(&file.kind)
                .bind(&file.bytes)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        for subject in &new.subjects {
            let patient: Option<String> = sqlx::query_scalar(
                "SELECT p.id FROM patients p WHERE p.insurer_no = $1 AND p.insured_no = $2 AND p.municipality_id IN \
                 (SELECT municipality_id FROM facilities WHERE id = $3 OR id = $4) ORDER BY p.created_at_ms LIMIT 1",
            )
            .bind(&subject.insurer_no)
            .bind(&subject.insured_no)
            .bind(new.sender_facility_id.as_str())
            .bind(new.receiver_facility_id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
            sqlx::query(
                "INSERT INTO careplan_subjects (set_id, insurer_no, insured_no, record_key, name, patient_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(id.as_str())
            .bind(&subject.insurer_no)
            .bind(&subject.insured_no)
            .bind(&subject.record_key)
            .bind(&subject.name)
            .bind(patient)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Ok(id)
    }

    /// Marks the subjects (person and record key) that deletion set `id` names in the earlier
    /// sent sets of `target` kind between the same facilities as withdrawn by it, and each such
    /// set as a whole once none of its subjects is left.
    async fn careplan_withdraw(
        tx: &mut Tx,
        id: &str,
        target: &str,
        stamp: &str,
        sender: &str,
        receiver: &str,
    ) -> StoreResult<()> {
        const EARLIER: &str = "kind = $2 AND stamp < $3 AND sender_facility_id = $4 AND receiver_facility_id = $5 \
             AND sent_at_ms IS NOT NULL AND withdrawn_by IS NULL";
        let subjects = format!(
            "UPDATE careplan_subjects SET withdrawn_by = $1 WHERE withdrawn_by IS NULL \
             AND set_id IN (SELECT id FROM careplan_sets WHERE {EARLIER}) AND EXISTS ( \
               SELECT 1 FROM careplan_subjects d WHERE d.set_id = $1 AND d.insurer_no = careplan_subjects.insurer_no \
               AND d.insured_no = careplan_subjects.insured_no AND d.record_key = careplan_subjects.record_key)"
        );
        let sets = format!(
            "UPDATE careplan_sets SET withdrawn_by = $1 WHERE {EARLIER} \
             AND EXISTS (SELECT 1 FROM careplan_subjects o WHERE o.set_id = careplan_sets.id AND o.withdrawn_by = $1) \
             AND NOT EXISTS (SELECT 1 FROM careplan_subjects o WHERE o.set_id = careplan_sets.id AND o.withdrawn_by IS NULL)"
        );
        for sql in [subjects, sets] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(target)
                .bind(stamp)
                .bind(sender)
                .bind(receiver)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl CareplanStore for SqlStore {
    async fn facilities_by_care_provider_no(&self, care_provider_no: &str) -> StoreResult<Vec<Facility>> {
        let sql = format!(
            "SELECT {FACILITY_COLUMNS} FROM facilities f WHERE f.care_provider_no = $1 ORDER BY f.created_at_ms, f.id LIMIT 2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(care_provider_no)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(facility_from).collect()
    }

    async fn create_careplan_sets(
        &self,
        sets: &[(NewCareplanSet, AuditDraft)],
    ) -> StoreResult<Vec<CareplanSetId>> {
        let Some(((last, last_audit), rest)) = sets.split_last() else {
            return Ok(Vec::new());
        };
        // One transaction for the whole upload: a set taken already (`Taken`) returns before
        // the commit, and dropping `tx` rolls back every set and audit entry written so far.
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(sets.len());
        for (new, audit) in rest {
            let id = Self::insert_careplan_set(&mut tx, new).await?;
            self.append(&mut tx, &AuditDraft { object_id: id.to_string(), ..audit.clone() }).await?;
            ids.push(id);
        }
        let id = Self::insert_careplan_set(&mut tx, last).await?;
        self.commit_with(tx, &AuditDraft { object_id: id.to_string(), ..last_audit.clone() }).await?;
        ids.push(id);
        Ok(ids)
    }

    async fn careplan_sets(&self, facility_id: &FacilityId) -> StoreResult<Vec<CareplanSetSummary>> {
        let sql = format!("SELECT {SET_COLUMNS} WHERE {VISIBLE} ORDER BY s.stamp DESC, s.id LIMIT 500");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(facility_id.as_str())
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        let mut sets = rows.iter().map(summary_from).collect::<StoreResult<Vec<_>>>()?;
        let ids: Vec<String> = sets.iter().map(|s| s.id.to_string()).collect();
        for (set_id, subject) in self.careplan_subjects(&ids).await? {
            if let Some(set) = sets.iter_mut().find(|s| s.id.as_str() == set_id) {
                set.subjects.push(subject);
            }
        }
        Ok(sets)
    }

    async fn careplan_waiting_count(&self, facility_id: &FacilityId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM careplan_sets WHERE receiver_facility_id = $1 AND sent_at_ms IS NOT NULL \
             AND acknowledged_at_ms IS NULL AND withdrawn_by IS NULL",
        )
        .bind(facility_id.as_str())
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn careplan_set(&self, facility_id: &FacilityId, id: &CareplanSetId) -> StoreResult<CareplanSet> {
        let sql = format!("SELECT {SET_COLUMNS} WHERE {VISIBLE} AND s.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(facility_id.as_str())
            .bind(id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        let mut summary = summary_from(&row)?;
        summary.subjects =
            self.careplan_subjects(&[id.to_string()]).await?.into_iter().map(|(_, s)| s).collect();
        let files =
            sqlx::query("SELECT name, kind, bytes FROM careplan_files WHERE set_id = $1 ORDER BY position")
                .bind(id.as_str())
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| {
                    Ok(CareplanFileData {
                        name: get(row, "name")?,
                        kind: get(row, "kind")?,
                        bytes: get(row, "bytes")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
        Ok(CareplanSet { summary, files })
    }

    async fn send_careplan_set(
        &self,
        facility_id: &FacilityId,
        id: &CareplanSetId,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT kind, stamp, receiver_facility_id, sent_at_ms FROM careplan_sets WHERE id = $1 AND sender_facility_id = $2",
        )
        .bind(id.as_str())
        .bind(facility_id.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if get::<Option<i64>>(&row, "sent_at_ms")?.is_some() {
            return Err(StoreError::NotAllowed);
        }
        let kind: String = get(&row, "kind")?;
        sqlx::query("UPDATE careplan_sets SET sent_at_ms = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // Sets apply in stamp order, whatever order they are sent in: a plan sent after the
        // deletion that follows it (by stamp) arrives withdrawn.
        if let Some(deletion) = withdrawn_by(&kind) {
            // Each subject to the first later deletion that names it …
            sqlx::query(
                "UPDATE careplan_subjects SET withdrawn_by = (SELECT d.id FROM careplan_sets d JOIN careplan_subjects x \
                 ON x.set_id = d.id WHERE d.kind = $2 AND d.stamp > $3 AND d.sender_facility_id = $4 \
                 AND d.receiver_facility_id = $5 AND d.sent_at_ms IS NOT NULL \
                 AND x.insurer_no = careplan_subjects.insurer_no AND x.insured_no = careplan_subjects.insured_no \
                 AND x.record_key = careplan_subjects.record_key ORDER BY d.stamp LIMIT 1) WHERE set_id = $1",
            )
            .bind(id.as_str())
            .bind(deletion)
            .bind(get::<String>(&row, "stamp")?)
            .bind(facility_id.as_str())
            .bind(get::<String>(&row, "receiver_facility_id")?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // … and the set, when all of them are, to the last of those deletions.
            sqlx::query(
                "UPDATE careplan_sets SET withdrawn_by = (SELECT o.withdrawn_by FROM careplan_subjects o \
                 JOIN careplan_sets d ON d.id = o.withdrawn_by WHERE o.set_id = $1 ORDER BY d.stamp DESC LIMIT 1) \
                 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM careplan_subjects o WHERE o.set_id = $1 AND o.withdrawn_by IS NULL)",
            )
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for target in withdraws(&kind) {
            Self::careplan_withdraw(
                &mut tx,
                id,
                target,
                &get::<String>(&row, "stamp")?,
                facility_id,
                &get::<String>(&row, "receiver_facility_id")?,
            )
            .await?;
        }
        self.commit_with(tx, audit).await
    }

    async fn acknowledge_careplan_set(
        &self,
        facility_id: &FacilityId,
        id: &CareplanSetId,
        account_id: &AccountId,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE careplan_sets SET acknowledged_by = $1, acknowledged_at_ms = $2 WHERE id = $3 \
             AND receiver_facility_id = $4 AND sent_at_ms IS NOT NULL AND acknowledged_at_ms IS NULL",
        )
        .bind(account_id.as_str())
        .bind(at_ms)
        .bind(id.as_str())
        .bind(facility_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // Acknowledged already (the first acknowledgement stays), or not this facility's.
            let seen: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM careplan_sets WHERE id = $1 AND receiver_facility_id = $2 AND sent_at_ms IS NOT NULL",
            )
            .bind(id.as_str())
            .bind(facility_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            return if seen == 0 { Err(StoreError::NotFound) } else { Ok(()) };
        }
        self.commit_with(tx, audit).await
    }
}

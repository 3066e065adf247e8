//! Posts in portable SQL (D4, D5): writing, the timeline, read receipts, acknowledgements,
//! edits, deletions, attachments and vital signs. Every call takes a [`RoomAccess`]; writes
//! re-check membership and the room's state inside their transaction, so an access proof that
//! went stale (member removed, consent withdrawn) writes nothing.

use async_trait::async_trait;
use renraku_domain::rooms::{Importance, PostCategory, PostText, Vitals};
use renraku_store::*;
use sqlx::QueryBuilder;

use super::rooms::db_err;
use super::{Tx, code, get, get_id, get_opt_id, occupation_label};
use crate::{Db, DbRow, SqlStore};

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
        id: get_id(row, "id")?,
        room_id: get_id(row, "room_id")?,
        parent_id: get_opt_id(row, "parent_id")?,
        author_account_id: get_id(row, "author_account_id")?,
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
        id: get_id(row, "id")?,
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
    Ok(Reader { account_id: get_id(row, "account_id")?, name: get(row, "name")?, at_ms: get(row, "at_ms")? })
}

/// `head IN (ids…) tail`, with the ids bound.
pub(super) fn in_list(head: &str, ids: &[String], tail: &str) -> QueryBuilder<Db> {
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
        let ids: Vec<String> = posts.iter().map(|p| p.id.to_string()).collect();
        let mut q = in_list(
            "SELECT pm.post_id, a.name FROM post_mentions pm JOIN accounts a ON a.id = pm.account_id WHERE pm.post_id",
            &ids,
            " ORDER BY a.kana",
        );
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        for row in &rows {
            let post_id: String = get(row, "post_id")?;
            if let Some(p) = posts.iter_mut().find(|p| p.id.as_str() == post_id) {
                p.mentioned.push(get(row, "name")?);
            }
        }
        let mut q = in_list("SELECT * FROM attachments WHERE post_id", &ids, " ORDER BY created_at_ms, id");
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        for row in &rows {
            let post_id: String = get(row, "post_id")?;
            if let Some(p) = posts.iter_mut().find(|p| p.id.as_str() == post_id && p.deleted_at_ms.is_none())
            {
                p.attachments.push(attachment_from(row)?);
            }
        }
        Ok(posts)
    }

    /// The caller's own live post in this room.
    async fn own_post(tx: &mut Tx, access: &RoomAccess, post_id: &str) -> StoreResult<String> {
        let row = sqlx::query(
            "SELECT author_account_id, body FROM posts WHERE id = $1 AND room_id = $2 AND deleted_at_ms IS NULL",
        )
        .bind(post_id)
        .bind(access.room().id.as_str())
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        if get::<String>(&row, "author_account_id")? != access.account_id().as_str() {
            return Err(StoreError::NotAllowed);
        }
        get(&row, "body")
    }
}

#[async_trait]
impl PostStore for SqlStore {
    async fn create_post(
        &self,
        access: &RoomAccess,
        post: &NewPost,
        audit: &AuditDraft,
    ) -> StoreResult<PostView> {
        let id: PostId = new_id();
        let now = audit.at_ms;
        let mut tx = self.begin().await?;
        // The same form sent again: the post it wrote the first time.
        if let Some(key) = &post.idempotency_key {
            let sql = "SELECT id FROM posts WHERE author_account_id = $1 AND idempotency_key = $2";
            let row = sqlx::query(sql)
                .bind(access.account_id().as_str())
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if let Some(row) = row {
                drop(tx);
                return self.post(access, &get_id(&row, "id")?).await;
            }
        }
        Self::writable(&mut tx, access).await?;
        if let Some(parent) = &post.parent_id {
            // Replies hang under a top-level post of the same room.
            sqlx::query("SELECT id FROM posts WHERE id = $1 AND room_id = $2 AND parent_id IS NULL")
                .bind(parent.as_str())
                .bind(access.room().id.as_str())
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
        .bind(id.as_str())
        .bind(access.room().municipality_id.as_str())
        .bind(access.room().id.as_str())
        .bind(post.parent_id.as_deref())
        .bind(access.account_id().as_str())
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
                        .bind(access.account_id().as_str())
                        .bind(key)
                        .fetch_one(self.reader())
                        .await
                        .map_err(db_err)?;
                return self.post(access, &get_id(&row, "id")?).await;
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
            .bind(id.as_str())
            .bind(access.room().id.as_str())
            .bind(account.as_str())
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
            .bind(a.id.as_str())
            .bind(access.room().municipality_id.as_str())
            .bind(access.room().id.as_str())
            .bind(id.as_str())
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
            .bind(access.room().id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut audit = audit.clone();
        audit.object_id = id.to_string();
        self.commit_with(tx, &audit).await?;
        self.post(access, &id).await
    }

    async fn timeline(
        &self,
        access: &RoomAccess,
        before: Option<&PostId>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.author_account_id \
             WHERE p.room_id = $2 AND p.parent_id IS NULL AND ($3 IS NULL OR p.id < $3) ORDER BY p.id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(access.account_id().as_str())
            .bind(access.room().id.as_str())
            .bind(before.map(|b| b.as_str()))
            .bind(limit)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        let posts = rows.iter().map(post_from).collect::<StoreResult<Vec<_>>>()?;
        self.with_mentions_and_files(posts).await
    }

    async fn post(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<PostView> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.author_account_id \
             WHERE p.id = $2 AND p.room_id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(access.account_id().as_str())
            .bind(post_id.as_str())
            .bind(access.room().id.as_str())
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        let post = post_from(&row)?;
        Ok(self.with_mentions_and_files(vec![post]).await?.remove(0))
    }

    async fn replies(&self, access: &RoomAccess, post_ids: &[PostId]) -> StoreResult<Vec<PostView>> {
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
        q.push_bind(access.room().id.as_str());
        q.push(" AND p.parent_id IN (");
        let mut list = q.separated(", ");
        for id in post_ids {
            list.push_bind(id.as_str());
        }
        q.push(") ORDER BY p.id");
        let rows = q.build().fetch_all(self.reader()).await.map_err(db_err)?;
        let replies = rows.iter().map(post_from).collect::<StoreResult<Vec<_>>>()?;
        self.with_mentions_and_files(replies).await
    }

    async fn record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[PostId],
        at_ms: i64,
        audit: Option<&AuditDraft>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut added = 0;
        if access.kind() == AccessKind::Member && !post_ids.is_empty() {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO post_reads (post_id, account_id, room_id, read_at_ms) SELECT p.id, ",
            );
            q.push_bind(access.account_id().to_string());
            q.push(", p.room_id, ");
            q.push_bind(at_ms);
            q.push(" FROM posts p WHERE p.room_id = ");
            q.push_bind(access.room().id.as_str());
            q.push(" AND p.author_account_id <> ");
            q.push_bind(access.account_id().to_string());
            q.push(" AND p.id IN (");
            let mut list = q.separated(", ");
            for id in post_ids {
                list.push_bind(id.as_str());
            }
            q.push(") ON CONFLICT (room_id, post_id, account_id) DO NOTHING");
            added = q.build().execute(&mut *tx).await.map_err(db_err)?.rows_affected();
        }
        match audit {
            Some(audit) => {
                let mut audit = audit.clone();
                if audit.detail.is_empty() {
                    audit.detail = format!("posts={} new_receipts={added}", post_ids.len());
                }
                self.commit_with(tx, &audit).await?;
            }
            None => tx.commit().await.map_err(db_err)?,
        }
        Ok(added)
    }

    async fn mark_room_read(&self, access: &RoomAccess, audit: &AuditDraft) -> StoreResult<u64> {
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
        .bind(access.room().id.as_str())
        .bind(access.account_id().as_str())
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

    async fn readers(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<Reader>> {
        let rows = sqlx::query(
            "SELECT r.account_id, a.name, r.read_at_ms AS at_ms FROM post_reads r JOIN accounts a ON a.id = r.account_id \
             JOIN posts p ON p.id = r.post_id WHERE r.room_id = $2 AND r.post_id = $1 AND p.room_id = $2 ORDER BY r.read_at_ms",
        )
        .bind(post_id.as_str())
        .bind(access.room().id.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(reader_from).collect()
    }

    async fn acknowledgers(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<Reader>> {
        let rows = sqlx::query(
            "SELECT k.account_id, a.name, k.acked_at_ms AS at_ms FROM post_acks k JOIN accounts a ON a.id = k.account_id \
             JOIN posts p ON p.id = k.post_id WHERE k.post_id = $1 AND p.room_id = $2 ORDER BY k.acked_at_ms",
        )
        .bind(post_id.as_str())
        .bind(access.room().id.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(reader_from).collect()
    }

    async fn acknowledge(
        &self,
        access: &RoomAccess,
        post_id: &PostId,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        let done = sqlx::query(
            "INSERT INTO post_acks (post_id, account_id, acked_at_ms) SELECT p.id, $2, $3 FROM posts p \
             WHERE p.id = $1 AND p.room_id = $4 AND p.ack_requested = TRUE AND p.deleted_at_ms IS NULL \
             ON CONFLICT (post_id, account_id) DO NOTHING",
        )
        .bind(post_id.as_str())
        .bind(access.account_id().as_str())
        .bind(audit.at_ms)
        .bind(access.room().id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // Acknowledged already (nothing to do), or no post of this room asks for it.
            let asked = sqlx::query(
                "SELECT 1 FROM posts WHERE id = $1 AND room_id = $2 AND ack_requested = TRUE AND deleted_at_ms IS NULL",
            )
            .bind(post_id.as_str())
            .bind(access.room().id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            return if asked.is_some() { Ok(()) } else { Err(StoreError::NotFound) };
        }
        self.commit_with(tx, audit).await
    }

    async fn edit_post(
        &self,
        access: &RoomAccess,
        post_id: &PostId,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        let old = Self::own_post(&mut tx, access, post_id).await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM post_versions WHERE post_id = $1")
            .bind(post_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let version = get::<i64>(&row, "n")? + 1;
        sqlx::query(
            "INSERT INTO post_versions (post_id, version, body, replaced_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(post_id.as_str())
        .bind(version)
        .bind(&old)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE posts SET body = $2, edited_at_ms = $3 WHERE id = $1")
            .bind(post_id.as_str())
            .bind(text.as_str())
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn delete_post(
        &self,
        access: &RoomAccess,
        post_id: &PostId,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Self::writable(&mut tx, access).await?;
        Self::own_post(&mut tx, access, post_id).await?;
        sqlx::query("UPDATE posts SET deleted_at_ms = $2 WHERE id = $1")
            .bind(post_id.as_str())
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn post_versions(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<PostVersion>> {
        let rows = sqlx::query(
            "SELECT v.version, v.body, v.replaced_at_ms FROM post_versions v JOIN posts p ON p.id = v.post_id \
             WHERE v.post_id = $1 AND p.room_id = $2 AND p.deleted_at_ms IS NULL ORDER BY v.version DESC",
        )
        .bind(post_id.as_str())
        .bind(access.room().id.as_str())
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

    async fn attachment(&self, access: &RoomAccess, attachment_id: &AttachmentId) -> StoreResult<Attachment> {
        let row = sqlx::query(
            "SELECT f.* FROM attachments f JOIN posts p ON p.id = f.post_id \
             WHERE f.id = $1 AND f.room_id = $2 AND p.deleted_at_ms IS NULL",
        )
        .bind(attachment_id.as_str())
        .bind(access.room().id.as_str())
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        attachment_from(&row)
    }

    async fn attachment_keys(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT content_key AS k FROM attachments UNION ALL \
             SELECT thumb_key AS k FROM attachments WHERE thumb_key IS NOT NULL",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(|row| get::<String>(row, "k")).collect()
    }

    async fn changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM posts p WHERE p.room_id = $1 AND (p.created_at_ms >= $2 OR p.edited_at_ms >= $2 \
                OR p.deleted_at_ms >= $2)) \
             + (SELECT COUNT(*) FROM post_reads r WHERE r.room_id = $1 AND r.read_at_ms >= $2) \
             + (SELECT COUNT(*) FROM post_acks k JOIN posts p ON p.id = k.post_id WHERE p.room_id = $1 AND k.acked_at_ms >= $2) \
             AS n",
        )
        .bind(access.room().id.as_str())
        .bind(since_ms)
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    async fn vitals(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<Vec<VitalsPoint>> {
        let rows = sqlx::query(
            "SELECT * FROM posts WHERE room_id = $1 AND created_at_ms >= $2 AND deleted_at_ms IS NULL AND (systolic IS NOT NULL \
             OR diastolic IS NOT NULL OR pulse IS NOT NULL OR temperature_tenths IS NOT NULL OR spo2 IS NOT NULL \
             OR respiration IS NOT NULL OR weight_tenths IS NOT NULL OR glucose IS NOT NULL) ORDER BY created_at_ms",
        )
        .bind(access.room().id.as_str())
        .bind(since_ms)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| Ok(VitalsPoint { at_ms: get(row, "created_at_ms")?, vitals: vitals_from(row)? }))
            .collect()
    }
}

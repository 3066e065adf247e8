//! Renraku's storage on an embedded SQLite file: the default, with nothing else to install.
//!
//! The database runs in WAL mode with `synchronous=FULL`, so a write is on disk before it is
//! acknowledged and survives a power cut. Writes go through one connection (SQLite has a single
//! writer anyway), which also orders audit appends; reads use a pool of their own.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use renraku_domain::audit::AuditSealer;
use renraku_store::{CommitFaults, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod dialect;
#[path = "../../store/portable/mod.rs"]
mod portable;

type Db = sqlx::Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;
const BACKEND: &str = "sqlite";

/// The SQLite store.
pub struct SqlStore {
    reader: SqlitePool,
    writer: SqlitePool,
    sealer: AuditSealer,
    /// Lost connections a test asks for (see [`CommitFaults`]).
    faults: CommitFaults,
}

pub type SqliteStore = SqlStore;

impl SqlStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    /// The file is readable by the server's user only (0600); SQLite gives its `-wal` and
    /// `-shm` files the database file's permissions.
    pub async fn open(path: &Path, sealer: AuditSealer) -> anyhow::Result<Self> {
        make_private(path)?;
        let url = format!("sqlite://{}", path.display());
        Self::open_url(&url, sealer).await
    }

    /// Opens a `sqlite://` URL.
    pub async fn open_url(url: &str, sealer: AuditSealer) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .context("the SQLite URL is not valid")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_release(|conn, _| Box::pin(async move { writer_still_usable(conn).await }))
            .connect_with(options.clone())
            .await
            .with_context(|| "cannot open the SQLite database".to_string())?;
        sqlx::migrate!("./migrations").run(&writer).await.context("cannot migrate the SQLite database")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .context("cannot open the SQLite database for reading")?;
        Ok(Self { reader, writer, sealer, faults: CommitFaults::default() })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        // IMMEDIATE takes the write lock at once, so a transaction never fails half-way
        // when another process (the CLI) writes at the same time; it waits instead.
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::Other(e.into()))
    }

    /// Moves everything in the write-ahead log into the database file and empties the log
    /// (after a bulk load, so the next commit does not pay for it).
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.writer).await?;
        Ok(())
    }

    /// Where a test arms a lost connection for one kind of write.
    pub fn faults(&self) -> &CommitFaults {
        &self.faults
    }

    /// Runs a statement directly, bypassing the store's rules. For tests that play an
    /// attacker with access to the database file.
    pub async fn execute_raw(&self, sql: &str) -> anyhow::Result<u64> {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }
}

/// Backups (`renraku backup`): a consistent copy of a live database, and the checks a copy must
/// pass before anyone relies on it. These open their own connections, so they work beside a
/// running server (another process) without disturbing it.
pub mod backup {
    use std::path::Path;
    use std::str::FromStr as _;
    use std::time::Duration;

    use anyhow::Context as _;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    async fn open(
        path: &Path,
        options: impl FnOnce(SqliteConnectOptions) -> SqliteConnectOptions,
    ) -> anyhow::Result<sqlx::SqlitePool> {
        let base =
            SqliteConnectOptions::from_str("sqlite://")?.filename(path).busy_timeout(Duration::from_secs(30));
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options(base))
            .await
            .with_context(|| format!("cannot open {}", path.display()))
    }

    /// Writes a copy of the database `db` to `dest` (which must not exist) as it was at one
    /// instant. `VACUUM INTO` reads inside one read transaction: in WAL mode the server keeps
    /// committing meanwhile, and the copy holds exactly the transactions committed before it
    /// began — every acknowledged write up to then, none half-done.
    pub async fn snapshot(db: &Path, dest: &Path) -> anyhow::Result<()> {
        anyhow::ensure!(db.exists(), "no database at {}", db.display());
        let dest = dest.to_str().context("the backup path must be valid UTF-8")?;
        let pool = open(db, |o| o.read_only(true)).await?;
        sqlx::query("VACUUM INTO $1").bind(dest).execute(&pool).await.context("cannot copy the database")?;
        pool.close().await;
        Ok(())
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` on a copy, opened immutable (a
    /// backup may live in a read-only directory). Returns the problems found; empty when sound.
    pub async fn integrity_problems(path: &Path) -> anyhow::Result<Vec<String>> {
        let pool = open(path, |o| o.read_only(true).immutable(true)).await?;
        let mut problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&pool)
            .await
            .context("the copy is not a readable SQLite database")?
            .into_iter()
            .filter(|line: &String| line != "ok")
            .collect();
        let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&pool).await?;
        if !dangling.is_empty() {
            problems.push(format!("{} rows refer to rows that are missing", dangling.len()));
        }
        pool.close().await;
        Ok(problems)
    }

    /// The blob keys (attachment files and thumbnails) the database refers to, so that a
    /// backup's files can be checked against it.
    pub async fn attachment_keys(path: &Path) -> anyhow::Result<Vec<String>> {
        let pool = open(path, |o| o.read_only(true).immutable(true)).await?;
        let keys = sqlx::query_scalar(
            "SELECT content_key FROM attachments UNION SELECT thumb_key FROM attachments \
             WHERE thumb_key IS NOT NULL ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .context("cannot list the attachments")?;
        pool.close().await;
        Ok(keys)
    }
}

/// Whether the writer connection may go back to the pool after a use.
///
/// On some errors (a full disk, an I/O error) SQLite rolls the transaction back by itself. sqlx
/// does not notice: its `ROLLBACK` then fails ("no transaction is active"), it keeps counting
/// the transaction as open, and refuses every later `BEGIN` on the connection — with one writer
/// connection, every write until a restart. Such a connection is closed here instead (the
/// pool opens a fresh one for the next write), so writes work again as soon as there is space.
async fn writer_still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection as _;
    // The rollback of a dropped transaction is queued on the connection; wait for it.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "the SQLite writer lost its transaction (full disk or I/O error?); opening a fresh connection"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Creates the database file readable by its owner only, or takes other users' access away
/// from an existing one, before SQLite opens it.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mode = std::fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
                        .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
        // Left by an earlier version or another program: SQLite reuses them as they are.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = std::path::PathBuf::from(side);
            if let Ok(meta) = std::fs::metadata(&side)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot restrict the permissions of {}", side.display()))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sealer = renraku_domain::audit::AuditSealer::new(b"jobs-test");
        let store = super::SqlStore::open(&dir.path().join("renraku.db"), sealer).await.expect("open");
        crate::portable::jobs::a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(&store).await;
    }
}

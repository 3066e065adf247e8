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
use renraku_store::{StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[path = "../../store/portable/sql_store.rs"]
mod portable;
#[path = "../../store/portable/careplan.rs"]
mod portable_careplan;
#[path = "../../store/portable/rooms.rs"]
mod portable_rooms;
#[path = "../../store/portable/seed.rs"]
mod portable_seed;

type Db = sqlx::Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;
const BACKEND: &str = "sqlite";

/// Statements whose SQLite form differs from PostgreSQL's. SQLite has one writer at a time, so
/// no row lock is needed: reading inside the write transaction is enough.
mod dialect {
    pub const LOCK_AUDIT_HEAD: &str = "SELECT seq, seal FROM audit_heads WHERE chain = $1";
    pub const LOCK_FACILITY: &str = "SELECT id FROM facilities WHERE id = $1";
}

/// The SQLite store.
pub struct SqlStore {
    reader: SqlitePool,
    writer: SqlitePool,
    sealer: AuditSealer,
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
        Ok(Self { reader, writer, sealer })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        // IMMEDIATE takes the write lock at once, so a transaction never fails half-way
        // when another process (the CLI) writes at the same time; it waits instead.
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::Other(e.into()))
    }

    /// One process owns a SQLite file, so there is no other instance to tell.
    async fn announce_room(&self, _room_id: &str) -> StoreResult<bool> {
        Ok(false)
    }

    async fn listen_rooms(&self) -> StoreResult<Option<renraku_store::Announcements>> {
        Ok(None)
    }

    /// Moves everything in the write-ahead log into the database file and empties the log
    /// (after a bulk load, so the next commit does not pay for it).
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.writer).await?;
        Ok(())
    }

    /// Runs a statement directly, bypassing the store's rules. For tests that play an
    /// attacker with access to the database file.
    pub async fn execute_raw(&self, sql: &str) -> anyhow::Result<u64> {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&self.writer).await?;
        Ok(done.rows_affected())
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

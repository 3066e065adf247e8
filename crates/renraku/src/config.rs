//! Configuration: defaults, then `renraku.toml` (or the file named by `--config` /
//! `RENRAKU_CONFIG`), then `RENRAKU_*` environment variables, then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// Where the SQLite database, the secret key and (later) attachments live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `data_dir/renraku.db`.
    pub database_url: String,
    /// The address users open in their browsers; links are built from it.
    pub public_base_url: String,
    /// The master secret (64 hex characters). Empty: read or create `data_dir/secret.key`.
    /// Several instances sharing one PostgreSQL database must share this value.
    pub secret_key: String,
    /// Take client addresses from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// Address for Prometheus to scrape `/metrics` from, e.g. `127.0.0.1:9090`; empty: no
    /// metrics. Never the public address: the figures are for the operator only.
    pub metrics_listen: String,
    /// Attachments go to this S3-compatible bucket (sealed with the master secret) instead of
    /// `data_dir/files`: needed when several instances serve one installation.
    pub files_s3_bucket: String,
    /// The S3 service's address (empty: AWS itself), e.g. `https://s3.isk01.sakurastorage.jp`.
    pub files_s3_endpoint: String,
    pub files_s3_region: String,
    /// Credentials; empty values fall back to `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub files_s3_access_key_id: String,
    pub files_s3_secret_access_key: String,
    /// Folder inside the bucket for this installation's files.
    pub files_s3_prefix: String,
    /// The file audit checkpoints are appended to, outside the database. Empty:
    /// `data_dir/audit-anchors.log`.
    pub audit_anchor_path: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            public_base_url: "http://127.0.0.1:8080".into(),
            secret_key: String::new(),
            trust_forwarded_for: false,
            metrics_listen: String::new(),
            files_s3_bucket: String::new(),
            files_s3_endpoint: String::new(),
            files_s3_region: String::new(),
            files_s3_access_key_id: String::new(),
            files_s3_secret_access_key: String::new(),
            files_s3_prefix: String::new(),
            audit_anchor_path: PathBuf::new(),
        }
    }
}

/// Command-line values that override the file and the environment.
#[derive(Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_base_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let file = file.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("renraku.toml"));
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("RENRAKU_").ignore(&[
                "config",
                "test_pg",
                "test_pg_url",
                "test_s3",
                "require_browser",
                "require_tmpfs",
            ]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .with_context(|| {
                format!("invalid configuration (file {}, RENRAKU_* variables)", file.display())
            })?;
        config.public_base_url()?;
        Ok(config)
    }

    pub fn public_base_url(&self) -> anyhow::Result<url::Url> {
        let url = url::Url::parse(&self.public_base_url)
            .with_context(|| format!("public_base_url {:?} is not a URL", self.public_base_url))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("public_base_url must start with http:// or https://");
        }
        Ok(url)
    }

    /// The database URL, with the SQLite default filled in.
    pub fn database(&self) -> Database {
        if self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://") {
            Database::Postgres(self.database_url.clone())
        } else if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            Database::Sqlite(PathBuf::from(path))
        } else {
            Database::Sqlite(self.data_dir.join("renraku.db"))
        }
    }

    /// The master secret: configured, or kept in `data_dir/secret.key` (created on first run,
    /// readable only by the server's user).
    pub fn master_secret(&self) -> anyhow::Result<Vec<u8>> {
        if !self.secret_key.is_empty() {
            let key = hex::decode(self.secret_key.trim()).context("secret_key must be hex")?;
            if key.len() < 32 {
                bail!("secret_key must be at least 32 bytes (64 hex characters)");
            }
            return Ok(key);
        }
        let path = self.data_dir.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use rand::RngCore as _;
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(&path, hex::encode(key).as_bytes())?;
                Ok(key.to_vec())
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The master secret, for commands that must not create one (`renraku audit verify`: a new
    /// secret would make every seal look forged).
    pub fn existing_master_secret(&self) -> anyhow::Result<Vec<u8>> {
        let path = self.data_dir.join("secret.key");
        if self.secret_key.is_empty() && !path.exists() {
            bail!(
                "no master secret: secret_key (RENRAKU_SECRET_KEY) is not set and {} does not exist. \
                 The audit trail can only be checked with the secret it was sealed with; none is created here.",
                path.display()
            );
        }
        self.master_secret()
    }

    /// Where audit checkpoints are appended.
    pub fn audit_anchor_path(&self) -> PathBuf {
        if self.audit_anchor_path.as_os_str().is_empty() {
            self.data_dir.join("audit-anchors.log")
        } else {
            self.audit_anchor_path.clone()
        }
    }

    /// The configuration as TOML with secrets hidden.
    pub fn redacted(&self) -> String {
        let mut shown = self.clone();
        if !shown.secret_key.is_empty() {
            shown.secret_key = "<redacted>".into();
        }
        if !shown.files_s3_secret_access_key.is_empty() {
            shown.files_s3_secret_access_key = "<redacted>".into();
        }
        shown.database_url = redact_url(&shown.database_url);
        let database = match shown.database() {
            Database::Sqlite(p) => format!("sqlite ({})", p.display()),
            Database::Postgres(_) => "postgres".into(),
        };
        let files = match shown.files_s3_bucket.as_str() {
            "" => format!("{} (encrypted)", shown.data_dir.join("files").display()),
            bucket => format!("S3 bucket {bucket} (encrypted)"),
        };
        format!(
            "listen = {:?}\ndata_dir = {:?}\ndatabase_url = {:?}\npublic_base_url = {:?}\nsecret_key = {:?}\ntrust_forwarded_for = {}\n\
             metrics_listen = {:?}\nfiles_s3_bucket = {:?}\nfiles_s3_endpoint = {:?}\nfiles_s3_region = {:?}\nfiles_s3_access_key_id = {:?}\n\
             files_s3_secret_access_key = {:?}\nfiles_s3_prefix = {:?}\naudit_anchor_path = {:?}\n# database in use: {database}\n# files in: {files}\n",
            shown.listen,
            shown.data_dir.display().to_string(),
            shown.database_url,
            shown.public_base_url,
            if shown.secret_key.is_empty() { "(data_dir/secret.key)" } else { &shown.secret_key },
            shown.trust_forwarded_for,
            shown.metrics_listen,
            shown.files_s3_bucket,
            shown.files_s3_endpoint,
            shown.files_s3_region,
            shown.files_s3_access_key_id,
            shown.files_s3_secret_access_key,
            shown.files_s3_prefix,
            shown.audit_anchor_path().display().to_string(),
        )
    }
}

impl Config {
    /// Where attachments are kept: the S3 bucket if one is configured.
    pub fn s3(&self) -> Option<renraku_attachments::blobs::S3Settings> {
        (!self.files_s3_bucket.is_empty()).then(|| renraku_attachments::blobs::S3Settings {
            bucket: self.files_s3_bucket.clone(),
            endpoint: self.files_s3_endpoint.clone(),
            region: self.files_s3_region.clone(),
            access_key_id: self.files_s3_access_key_id.clone(),
            secret_access_key: self.files_s3_secret_access_key.clone(),
            prefix: self.files_s3_prefix.clone(),
        })
    }
}

/// A database URL with its password hidden, whether it is in the user-info part
/// (`postgres://user:PASSWORD@host`) or a query parameter (`?password=…`, `?sslpassword=…`).
fn redact_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else { return text.to_string() };
    if url.password().is_some() {
        let _ = url.set_password(Some("<redacted>"));
    }
    let secret = |key: &str| key.to_ascii_lowercase().contains("password");
    if url.query_pairs().any(|(k, _)| secret(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) { "<redacted>".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Creates `dir` (and missing parents) readable by the server's user only (0700), whatever
/// the umask: it holds the database, the master secret and the attachments. A directory that
/// exists already is left as it is, with a warning if others may read it.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            // The umask may have taken bits away, never added them; set exactly 0700.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot set the permissions of {}", dir.display()))?;
        } else if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                dir = %dir.display(),
                "this directory (data or backups) can be read by other users; `chmod 700` it"
            );
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(())
}

/// Writes a new file (never an existing one) readable by the server's user only (0600), synced;
/// its folder is created 0700 if missing.
pub(crate) fn write_private(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(content)?;
        file.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, content)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_is_never_shown() {
        let c = Config {
            database_url: "postgres://renraku:hunter2@db.example.jp/renraku".into(),
            secret_key: "00".repeat(32),
            ..Config::default()
        };
        let shown = c.redacted();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&"00".repeat(32)), "{shown}");
        assert!(shown.contains("postgres"));
    }

    #[test]
    fn the_secret_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let first = c.master_secret().unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(c.master_secret().unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_audit_check_never_creates_a_master_secret() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let refused = c.existing_master_secret().unwrap_err().to_string();
        assert!(refused.contains("no master secret"), "{refused}");
        assert!(!dir.path().join("secret.key").exists());
        let created = c.master_secret().unwrap();
        assert_eq!(c.existing_master_secret().unwrap(), created);
        assert_eq!(c.audit_anchor_path(), dir.path().join("audit-anchors.log"));
    }

    #[test]
    fn sqlite_is_the_default_database() {
        let c = Config::default();
        assert!(matches!(c.database(), Database::Sqlite(p) if p == Path::new("./data/renraku.db")));
    }
}

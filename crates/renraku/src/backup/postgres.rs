//! What a backup needs of PostgreSQL: `pg_dump` run without the password on its command line,
//! and what to say when `pg_dump` is missing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

/// `pg_dump` in its custom format (compressed; `pg_restore` can list and pick from it).
pub(super) fn dump_postgres(pg_dump: &Path, url: &str, dest: &Path) -> anyhow::Result<()> {
    let out = pg_dump_command(pg_dump, url, dest)?.output().context("cannot run pg_dump")?;
    if !out.status.success() {
        bail!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The `pg_dump` command for `url`. Every user of the machine can read a command line (`ps`),
/// so no password goes on it: the URL's password (`user:password@` or `?password=`) travels in
/// `PGPASSWORD`, and every other query parameter whose name mentions a password is removed.
/// `sslpassword` (a client key's passphrase) has no environment variable, so it is refused.
pub(super) fn pg_dump_command(
    pg_dump: &Path,
    url: &str,
    dest: &Path,
) -> anyhow::Result<std::process::Command> {
    let mut parsed = url::Url::parse(url).context("the PostgreSQL URL is not valid")?;
    let mut password =
        parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = parsed.set_password(None);
    // Each pair is kept as written (libpq does not read `+` as a space).
    let mut kept = vec![];
    for pair in parsed.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((name, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else { continue };
        let lower = name.to_ascii_lowercase();
        if lower == "password" {
            // libpq lets a query parameter override the user-info part.
            password = Some(value.into_owned());
        } else if lower == "sslpassword" {
            bail!(
                "the database URL holds sslpassword: pg_dump could only be given it on its command line, \
                 where every user of the machine can read it. Use a client key without a passphrase \
                 (readable by the server's user only), or run pg_dump yourself (README, \"Backups\")"
            );
        } else if !lower.contains("password") {
            kept.push(pair.to_string());
        }
    }
    let query = kept.join("&");
    parsed.set_query((!query.is_empty()).then_some(query.as_str()));
    // Renraku's own schema, when the URL puts it in one (`options=-c search_path=…`).
    let schema = parsed
        .query_pairs()
        .filter(|(k, _)| k == "options")
        .find_map(|(_, v)| {
            v.split("search_path=").nth(1).map(|s| s.split([' ', ',']).next().unwrap_or("").to_string())
        })
        .filter(|s| !s.is_empty());
    let mut cmd = std::process::Command::new(pg_dump);
    cmd.arg("--format=custom").arg("--file").arg(dest).arg("--dbname").arg(parsed.as_str());
    if let Some(schema) = &schema {
        cmd.arg("--schema").arg(schema);
    }
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    Ok(cmd)
}

/// Without `pg_dump`, says what the server's settings allow and what to do; no backup is made.
pub(super) async fn explain_postgres(url: &str) -> anyhow::Result<ExitCode> {
    println!("pg_dump is not on PATH, so no backup was made.");
    match renraku_store_postgres::backup::archive_settings(url).await {
        Ok(settings) => {
            println!("The PostgreSQL server reports:");
            for (name, value) in &settings {
                println!("    {name} = {}", if value.is_empty() { "(empty)" } else { value });
            }
            let get = |n: &str| settings.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("");
            let archiving = get("archive_mode") != "off"
                && (!get("archive_command").is_empty() || !get("archive_library").is_empty())
                && get("wal_level") != "minimal";
            if archiving {
                println!(
                    "WAL archiving is on: with base backups (pg_basebackup) the database can be recovered to any point in time."
                );
            } else {
                println!(
                    "WAL archiving is off: point-in-time recovery is not possible. Set wal_level = replica, \
                     archive_mode = on and an archive_command, and take base backups with pg_basebackup."
                );
            }
        }
        Err(e) => println!("The server's settings could not be read: {e:#}"),
    }
    println!(
        "Install the PostgreSQL client tools (the server's major version) so `renraku backup` can run pg_dump, \
         or back up with your own pg_dump / pg_basebackup schedule (README, \"Backups\")."
    );
    Ok(ExitCode::from(1))
}

pub(super) fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        p.is_file()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::path::Path;

    use super::pg_dump_command;

    fn argv_and_password(url: &str) -> (String, Option<String>) {
        let cmd = pg_dump_command(Path::new("pg_dump"), url, Path::new("/backups/renraku.pgdump")).unwrap();
        let argv: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let password = cmd
            .get_envs()
            .find(|(k, _)| *k == "PGPASSWORD")
            .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()));
        (argv.join(" "), password)
    }

    #[test]
    fn no_password_reaches_the_command_line_of_pg_dump() {
        let (argv, password) =
            argv_and_password("postgres://renraku:in%20user@db.example/renraku?sslmode=require");
        assert_eq!(password.as_deref(), Some("in user"));
        assert!(argv.contains("--dbname postgres://renraku@db.example/renraku?sslmode=require"), "{argv}");

        let (argv, password) = argv_and_password(
            "postgres://renraku@db.example/renraku?password=s3cret&sslmode=require&options=-c%20search_path%3Dr1",
        );
        assert_eq!(password.as_deref(), Some("s3cret"));
        assert!(!argv.contains("s3cret") && !argv.contains("password"), "{argv}");
        assert!(argv.contains("sslmode=require") && argv.contains("--schema r1"), "{argv}");

        let (argv, _) = argv_and_password("postgres://renraku:a@db.example/renraku?PassWord=b&my_password=c");
        assert!(!argv.to_lowercase().contains("password") && !argv.contains(":a@"), "{argv}");

        let refused =
            pg_dump_command(Path::new("pg_dump"), "postgres://db.example/r?sslpassword=k3y", Path::new("x"));
        let message = format!("{:#}", refused.expect_err("refused"));
        assert!(message.contains("sslpassword") && !message.contains("k3y"), "{message}");
    }
}

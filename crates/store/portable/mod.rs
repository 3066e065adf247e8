//! The implementation of the store's areas in SQL that SQLite and PostgreSQL both understand,
//! one file per area (`directory.rs` implements [`DirectoryStore`], and so on).
//!
//! These files are not a crate: `renraku-store-sqlite` and `renraku-store-postgres` each include
//! this folder with `#[path]` and compile it against their own concrete driver (`crate::Db`), so
//! the code is written once but type-checked for each database. What differs between the two —
//! connection set-up, migrations, row locks, live updates — lives in each crate's `lib.rs` and
//! `dialect.rs`.

mod audit;
mod careplan;
mod directory;
/// `pub(crate)` for the backends' test that a rolled-back change leaves no job.
pub(crate) mod jobs;
mod posts;
mod rooms;
mod seed;
mod sessions;
mod system;

use anyhow::{Context as _, anyhow};
use renraku_domain::directory::Occupation;
use renraku_store::*;
use sqlx::Row as _;

use crate::{Db, DbRow};

pub(crate) type Tx = sqlx::Transaction<'static, Db>;

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

/// [`get`] of the column `prefix` + `column`: for a row that joins several records, each under
/// its own prefix.
pub(crate) fn get_as<'r, T>(row: &'r DbRow, prefix: &str, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    if prefix.is_empty() { get(row, column) } else { get(row, &format!("{prefix}{column}")) }
}

/// An id column, as the typed id it holds (trusted: the store wrote it).
pub(crate) fn get_id<T: Id>(row: &DbRow, column: &str) -> StoreResult<T> {
    Ok(T::from_stored(get(row, column)?))
}

/// A nullable id column.
pub(crate) fn get_opt_id<T: Id>(row: &DbRow, column: &str) -> StoreResult<Option<T>> {
    Ok(get::<Option<String>>(row, column)?.map(T::from_stored))
}

/// [`get_opt_id`] of the column `prefix` + `column`.
pub(crate) fn get_opt_id_as<T: Id>(row: &DbRow, prefix: &str, column: &str) -> StoreResult<Option<T>> {
    Ok(get_as::<Option<String>>(row, prefix, column)?.map(T::from_stored))
}

/// [`get_id`] of the column `prefix` + `column`.
pub(crate) fn get_id_as<T: Id>(row: &DbRow, prefix: &str, column: &str) -> StoreResult<T> {
    Ok(T::from_stored(get_as(row, prefix, column)?))
}

pub(crate) fn code<T>(value: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&value).ok_or_else(|| StoreError::Other(anyhow!("unknown code {value:?} in the database")))
}

/// The label of a person's 職種, or what they wrote for "other".
pub(crate) fn occupation_label(row: &DbRow, code_column: &str, other_column: &str) -> StoreResult<String> {
    let other: Option<String> = get(row, other_column)?;
    let occupation = code(get(row, code_column)?, Occupation::from_code)?;
    Ok(other.unwrap_or_else(|| occupation.label().to_string()))
}

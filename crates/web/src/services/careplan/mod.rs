//! The care-plan upload (F1): from the files a user chose to stored, not yet sent, sets. The
//! upload is unpacked and checked against the national standard on the blocking pool, each set
//! is routed to its receiver facility, and the sets are stored all or nothing, each with its
//! audit entry. A refused upload leaves its own audit entry and nothing else.

pub mod exchange;
pub mod forms;
pub mod rules;

use std::io::Read as _;

use renraku_careplan::check::{FileReport, check};
use renraku_careplan::layout::Kind;
use renraku_careplan::sets::Transmission;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::CareplanSetId;
use renraku_store::{CareplanFileData, Facility, NewCareplanSet, StoreError};

use self::rules::{people, route, sender_problem, subjects, uploaded_already};
use super::ServiceError;
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::uploads::Upload;

/// People in one set (a care manager has a few dozen; a large provider a few hundred).
const MAX_SUBJECTS: usize = 2_000;
/// Uploads checked at the same time: checking is CPU work, done off the async workers.
static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// Files inside the ZIPs of one upload, and their total size once unpacked.
const MAX_ZIP_ENTRIES: usize = 200;
const MAX_UNPACKED_BYTES: u64 = 50 * 1024 * 1024;

/// A problem line as the upload page shows it.
pub struct ProblemLine {
    pub file: String,
    pub text: String,
}

/// An upload stored whole: its sets' ids, in the order of the upload.
pub struct Uploaded {
    pub ids: Vec<CareplanSetId>,
}

/// An upload refused, none of it stored: what the user must fix, and the files that were
/// checked (the page names the rules not checked for them).
pub struct Refused {
    pub problems: Vec<ProblemLine>,
    pub checked: Vec<String>,
}

/// The whole upload workflow for `auth`'s `facility`. The outer error is a failure of the
/// server (the store, the blocking pool); the inner one is the upload's own.
pub async fn upload_careplan_sets(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    uploads: Vec<Upload>,
) -> Result<Result<Uploaded, Refused>, ServiceError> {
    let refused = |detail: String, problems: Vec<ProblemLine>, checked: Vec<String>| async move {
        let mut audit =
            auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanUpload, "careplan_set", "");
        audit.outcome = "refused".into();
        audit.detail = detail;
        state.store.append_audit(&audit).await?;
        Ok::<Result<Uploaded, Refused>, ServiceError>(Err(Refused { problems, checked }))
    };
    if uploads.is_empty() {
        let problem =
            ProblemLine { file: String::new(), text: "ファイルを選んでください".into() };
        return refused("files=0".into(), vec![problem], vec![]).await;
    }
    // Unpacking and checking are CPU work: off the async workers, two uploads at a time.
    let permit = CHECKS.acquire().await.map_err(|e| ServiceError::Internal(e.into()))?;
    let checked_upload = tokio::task::spawn_blocking(move || {
        unpack(uploads).map(|files| {
            let report = check(&files);
            (files, report)
        })
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    drop(permit);
    let (files, report) = match checked_upload {
        Ok(done) => done,
        Err(message) => {
            let problem = ProblemLine { file: String::new(), text: message };
            return refused("unpack".into(), vec![problem], vec![]).await;
        }
    };
    let checked: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    let mut problems = problem_lines(&report.files, &report.sets);
    let my_office = facility.info.care_provider_no.as_ref().map(|n| n.to_string()).unwrap_or_default();
    // The exchange routes by 介護事業所番号, so a number must name exactly one facility here:
    // the sender's must be this facility alone, the receiver's one facility.
    let mine_alone = !my_office.is_empty()
        && state
            .store
            .facilities_by_care_provider_no(&my_office)
            .await?
            .iter()
            .map(|f| &f.id)
            .eq([&facility.id]);
    let existing = state.store.careplan_sets(&facility.id).await?;
    let mut routed = Vec::new();
    for set in &report.sets {
        if let Some(text) = sender_problem(set.sender.number.as_str(), &my_office, mine_alone) {
            problems.push(set_problem(&set.stamp, text));
        }
        let registered = state.store.facilities_by_care_provider_no(set.receiver.number.as_str()).await?;
        match route(set.receiver.number.as_str(), &registered) {
            Ok(receiver) => {
                if uploaded_already(&existing, &set.stamp, set.kind.code(), &receiver.id) {
                    problems.push(set_problem(
                        &set.stamp,
                        "この送信単位（同じ連番・送信先）はアップロード済みです".into(),
                    ));
                }
                routed.push((set, receiver.clone()));
            }
            Err(text) => problems.push(set_problem(&set.stamp, text)),
        }
    }
    // The sets as they will be stored, with the people they are about, each with its entry.
    let now = state.clock.now_ms();
    let mut new_sets = Vec::new();
    for (set, receiver) in routed {
        let new = new_set(set, &receiver, &files, &report.files, facility, auth, now);
        if people(&new.subjects).len() > MAX_SUBJECTS {
            problems
                .push(set_problem(&set.stamp, format!("1つの送信単位の利用者は{MAX_SUBJECTS}人までです")));
        }
        let mut audit = auth.audit(meta, now, AuditAction::CareplanUpload, "careplan_set", "");
        audit.detail = format!(
            "stamp={} kind={} files={} people={}",
            new.stamp,
            new.kind,
            new.files.len(),
            people(&new.subjects).len()
        );
        new_sets.push((new, audit));
    }
    if !problems.is_empty() {
        let detail = format!("files={} problems={}", files.len(), problems.len());
        return refused(detail, problems, checked).await;
    }
    match state.store.create_careplan_sets(&new_sets).await {
        Ok(ids) => Ok(Ok(Uploaded { ids })),
        // Uploaded at the same moment by someone else of this facility: none of this upload
        // is stored, and the page names the sets that are there now.
        Err(StoreError::Taken(_)) => {
            let existing = state.store.careplan_sets(&facility.id).await?;
            let taken: Vec<&str> = new_sets
                .iter()
                .map(|(new, _)| new)
                .filter(|new| uploaded_already(&existing, &new.stamp, &new.kind, &new.receiver_facility_id))
                .map(|new| new.stamp.as_str())
                .collect();
            let none_stored = if new_sets.len() > 1 {
                "（このアップロードの送信単位は、どれも読み込んでいません）"
            } else {
                ""
            };
            let mut problems: Vec<ProblemLine> = taken
                .iter()
                .map(|stamp| {
                    set_problem(
                        stamp,
                        format!("この送信単位（同じ連番・送信先）はアップロード済みです{none_stored}"),
                    )
                })
                .collect();
            if problems.is_empty() {
                problems.push(ProblemLine {
                    file: String::new(),
                    text: format!("同時にアップロードされた送信単位と重なりました{none_stored}"),
                });
            }
            refused(format!("duplicate stamp={}", taken.join(",")), problems, checked).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A problem of one set, named by its stamp.
fn set_problem(stamp: &str, text: String) -> ProblemLine {
    ProblemLine { file: format!("送信単位 {stamp}"), text }
}

/// A checked set as it will be stored: its files byte for byte, the people from its main file.
fn new_set(
    set: &Transmission,
    receiver: &Facility,
    files: &[(String, Vec<u8>)],
    reports: &[FileReport],
    facility: &Facility,
    auth: &Auth,
    now: i64,
) -> NewCareplanSet {
    let mut stored = Vec::new();
    let mut main_file = None;
    let mut supplement = None;
    for name in &set.files {
        let text = name.to_string();
        let Some((_, bytes)) = files.iter().find(|(n, _)| n.eq_ignore_ascii_case(&text)) else {
            continue;
        };
        // The checker has read every file already.
        let parsed =
            reports.iter().find(|f| f.file_name.as_ref() == Some(name)).and_then(|f| f.file.as_ref());
        if main_file.is_none() {
            main_file = parsed;
        } else if name.kind == Kind::Uphosoku {
            supplement = parsed;
        }
        stored.push(CareplanFileData {
            name: text,
            kind: name.kind.prefix().to_string(),
            bytes: bytes.clone(),
        });
    }
    NewCareplanSet {
        kind: set.kind.code().to_string(),
        stamp: set.stamp.clone(),
        month: set.files.iter().find_map(|f| f.month.clone()).filter(|m| m != "000000"),
        sender_facility_id: facility.id.clone(),
        receiver_facility_id: receiver.id.clone(),
        sender_office: format!("{}-{}", set.sender.number, set.sender.service_type),
        receiver_office: format!("{}-{}", set.receiver.number, set.receiver.service_type),
        uploaded_by: auth.account.id.clone(),
        uploaded_at_ms: now,
        files: stored,
        subjects: main_file.map(|f| subjects(f, supplement)).unwrap_or_default(),
    }
}

/// The CSV files of an upload, ZIPs unpacked (with limits, so a small ZIP cannot unpack into
/// gigabytes).
fn unpack(uploads: Vec<Upload>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let mut entries = 0usize;
    let mut unpacked = 0u64;
    for upload in uploads {
        if !upload.bytes.starts_with(b"PK\x03\x04") {
            unpacked += upload.bytes.len() as u64;
            files.push((upload.name, upload.bytes));
            continue;
        }
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(upload.bytes))
            .map_err(|_| format!("{}: ZIP ファイルとして読めません", upload.name))?;
        if zip.len() > MAX_ZIP_ENTRIES {
            return Err(format!("ZIP の中のファイルは{MAX_ZIP_ENTRIES}個までです"));
        }
        for i in 0..zip.len() {
            let mut entry =
                zip.by_index(i).map_err(|_| format!("{}: ZIP の中身を読めません", upload.name))?;
            if entry.is_dir() {
                continue;
            }
            entries += 1;
            if entries > MAX_ZIP_ENTRIES {
                return Err(format!("ZIP の中のファイルは{MAX_ZIP_ENTRIES}個までです"));
            }
            // Folders inside the ZIP do not matter; the file name does.
            let name = entry
                .name()
                .map_err(|_| format!("{}: ZIP の中のファイル名を読めません", upload.name))?
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut bytes = Vec::new();
            let limit = MAX_UNPACKED_BYTES.saturating_sub(unpacked) + 1;
            (&mut entry)
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(|_| format!("{}: ZIP の中の {name} を読めません", upload.name))?;
            unpacked += bytes.len() as u64;
            if unpacked > MAX_UNPACKED_BYTES {
                return Err(format!("ZIP を展開すると {} MB を超えます", MAX_UNPACKED_BYTES / 1024 / 1024));
            }
            files.push((name, bytes));
        }
    }
    Ok(files)
}

fn problem_lines(files: &[FileReport], sets: &[Transmission]) -> Vec<ProblemLine> {
    // Each file's problems are capped by the checker; the page shows at most this many.
    const SHOWN: usize = 500;
    let mut lines = Vec::new();
    for file in files {
        for problem in &file.problems {
            lines.push(ProblemLine { file: file.name.clone(), text: problem.to_string() });
        }
    }
    for set in sets {
        for problem in &set.problems {
            lines.push(ProblemLine { file: format!("送信単位 {}", set.stamp), text: problem.clone() });
        }
    }
    if lines.len() > SHOWN {
        let more = lines.len() - SHOWN;
        lines.truncate(SHOWN);
        lines.push(ProblemLine { file: String::new(), text: format!("ほかに{more}件あります") });
    }
    lines
}

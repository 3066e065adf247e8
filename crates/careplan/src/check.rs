//! Checking what a user or another system hands us: any number of files, each by name and
//! bytes, checked one by one and then as transmission sets.

use std::collections::HashSet;

use crate::file::CareplanFile;
use crate::layout::Kind;
use crate::name::{FileName, NameError};
use crate::problem::Problem;
use crate::sets::{self, Transmission};

/// At most this many problems are reported per file; a last line says how the count ends.
pub const MAX_PROBLEMS: usize = 200;

/// A rule of the standard this checker does not check, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotChecked {
    /// The kinds whose files it concerns.
    pub kinds: &'static [Kind],
    /// Where: the table, item number and name.
    pub item: &'static str,
    /// The rule, as the layout states it.
    pub rule: &'static str,
}

const PROVISION: &[Kind] = &[Kind::Upplan, Kind::Upjsk];

/// The rules that need the national service-code master (介護給付費単位数等サービスコード表) to
/// know what a サービスコード is: not checked, and said so in every report that has such files, so
/// that 「適合」 never claims more than was checked (issue 10, items 10 and 15).
pub const NEEDS_MASTER: &[NotChecked] = &[
    NotChecked {
        kinds: &[Kind::Upplan, Kind::Upjsk, Kind::Upsikyu],
        item: "第6表 項目15・第7表 項目9「サービスコード」",
        rule: "サービスコード表にあるコードか（サービス種類が連携対象かだけを確認しています）",
    },
    NotChecked {
        kinds: PROVISION,
        item: "第6表 項目11「日割対象日」",
        rule: "日割請求できるサービスだけに設定し、日割り以外は空にすること",
    },
    NotChecked {
        kinds: PROVISION,
        item: "第6表 項目12・13「サービス開始時刻」「サービス終了時刻」",
        rule: "時間表示の有るサービスは HHMM、無いサービスは 9999 とすること",
    },
    NotChecked {
        kinds: PROVISION,
        item: "第6表 項目8「単位数」",
        rule: "サービスコードの単位数であること（率加減算のコードは実績で計算できない場合 0 も可）",
    },
    NotChecked {
        kinds: &[Kind::Upsikyu],
        item: "第7表 項目18「給付管理単位数」",
        rule: "区分支給限度外のサービスでは空にすること（大規模型通所系サービス、小多機・看多機の同一建物の例外を含む）",
    },
];

/// The rules of [`NEEDS_MASTER`] that concern files of `kinds`.
pub fn not_checked(kinds: impl IntoIterator<Item = Kind>) -> Vec<&'static NotChecked> {
    let kinds: Vec<Kind> = kinds.into_iter().collect();
    NEEDS_MASTER.iter().filter(|rule| rule.kinds.iter().any(|k| kinds.contains(k))).collect()
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    /// Known when the name could be read.
    pub file_name: Option<FileName>,
    /// The file as read, when its text could be read at all (problems or not).
    pub file: Option<CareplanFile>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub files: Vec<FileReport>,
    /// The sets formed by the files whose names could be read, in the order to apply them.
    pub sets: Vec<Transmission>,
}

impl Report {
    pub fn is_conformant(&self) -> bool {
        self.files.iter().all(|f| f.problems.is_empty()) && self.sets.iter().all(Transmission::is_complete)
    }

    /// The rules not checked for these files because they need the service-code master.
    pub fn not_checked(&self) -> Vec<&'static NotChecked> {
        not_checked(self.files.iter().filter_map(FileReport::kind))
    }
}

impl FileReport {
    /// The file's kind, when its name or text told it.
    pub fn kind(&self) -> Option<Kind> {
        self.file_name.as_ref().map(|n| n.kind).or(self.file.as_ref().map(|f| f.kind))
    }
}

/// Checks one file: its name, its text, every record, and that writing it back gives the same
/// bytes.
pub fn check_file(name: &str, bytes: &[u8]) -> FileReport {
    let mut problems = Vec::new();
    let file_name = match FileName::parse(name) {
        Ok(parsed) => {
            problems.extend(crate::rules::check_name_types(&parsed));
            Some(parsed)
        }
        Err(e) => {
            problems.push(Problem::file(e.to_string()));
            if e == NameError::Version3 {
                return FileReport { name: name.to_string(), file_name: None, file: None, problems };
            }
            None
        }
    };
    // Without a valid name the kind may still be known from the prefix.
    let kind = file_name.as_ref().map(|n| n.kind).or_else(|| crate::name::kind_of(name));
    let mut parsed = None;
    if kind.is_some_and(Kind::is_image) {
        // The 家族構成 image is a JPEG, never read as CSV.
        if let Err(problem) = crate::image::check(bytes) {
            problems.push(problem);
        }
    } else if let Some(kind) = kind {
        match CareplanFile::parse(kind, bytes) {
            Ok(file) => {
                problems.extend(file.check_up_to(MAX_PROBLEMS + 1));
                if let Some(file_name) = &file_name {
                    problems.extend(crate::rules::check_name(&file, file_name, MAX_PROBLEMS + 1));
                }
                match file.write() {
                    Ok(written) if written == bytes => {}
                    Ok(_) => problems.push(Problem::file(
                        "書き戻すと元と同じバイト列になりません（規格外の文字コードの表現があります）",
                    )),
                    // The check has named most of them already, with the same message.
                    Err(bad) => {
                        for problem in bad {
                            if !problems.contains(&problem) {
                                problems.push(problem);
                            }
                        }
                    }
                }
                parsed = Some(file);
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.len() > MAX_PROBLEMS {
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem::file(format!("問題が多いため、最初の{MAX_PROBLEMS}件で確認をやめました")));
    }
    FileReport { name: name.to_string(), file_name, file: parsed, problems }
}

/// Checks files and the sets they form.
pub fn check(files: &[(String, Vec<u8>)]) -> Report {
    let mut files: Vec<FileReport> = files.iter().map(|(name, bytes)| check_file(name, bytes)).collect();
    let sets = sets::group(files.iter().filter_map(|f| f.file_name.clone()));
    for set in &sets {
        for dependency in sets::DEPENDENCIES.iter().filter(|d| d.set == set.kind) {
            check_parent(&mut files, set, dependency);
        }
    }
    Report { files, sets }
}

type Columns = (Option<usize>, Option<usize>, Option<usize>);

/// 保険者番号, 被保険者番号 and the key item of a record, by column.
fn person<'a>(columns: Columns, record: crate::file::Record<'a>) -> (&'a str, &'a str, &'a str) {
    let value = |column: Option<usize>| {
        column.and_then(|c| record.row.fields.get(c)).map_or("", |f| f.value.as_str())
    };
    (value(columns.0), value(columns.1), value(columns.2))
}

/// 仕様 2.3: a dependent file's people are the parent file's — each 保険者番号, 被保険者番号 and key
/// (計画作成日 or 対象年月) of the dependent has a record in the parent of the same unit. Reported
/// on the dependent file, once per missing person and key, at its first row.
fn check_parent(files: &mut [FileReport], set: &Transmission, dependency: &sets::Dependency) {
    let member = |report: &FileReport, kind: Kind| {
        report.file_name.as_ref().is_some_and(|n| n.kind == kind && set.files.contains(n))
    };
    let (Some(parent), Some(at)) = (
        files.iter().find(|f| member(f, dependency.parent)).and_then(|f| f.file.as_ref()),
        files.iter().position(|f| member(f, dependency.dependent)),
    ) else {
        return;
    };
    let Some(dependent) = &files[at].file else { return };
    // Columns found once; keys borrowed from the files (a 第6表 has a row per service day).
    let column = |kind: Kind, name: &str| kind.item(name).map(|i| usize::from(i.no) - 1);
    let columns =
        |kind: Kind| (column(kind, "保険者番号"), column(kind, "被保険者番号"), column(kind, dependency.key));
    let of_parent = columns(dependency.parent);
    let known: HashSet<(&str, &str, &str)> = parent.records().map(|r| person(of_parent, r)).collect();
    let of_dependent = columns(dependency.dependent);
    let mut missing = HashSet::new();
    let mut problems = Vec::new();
    for record in dependent.records() {
        let key = person(of_dependent, record);
        // An empty key item is reported as missing already.
        if key.1.is_empty() || key.2.is_empty() || known.contains(&key) || !missing.insert(key) {
            continue;
        }
        let message = format!(
            "同じ送信単位の{}（{}）に、保険者番号 {}・被保険者番号 {}・{} {} の記録がありません",
            dependency.parent.label(),
            dependency.parent.prefix(),
            key.0,
            key.1,
            dependency.key,
            key.2
        );
        problems.push(match record.kind.item(dependency.key) {
            Some(item) => Problem::item(record.row.line, item, message),
            None => Problem::line(record.row.line, message),
        });
    }
    let report = &mut files[at];
    let room = MAX_PROBLEMS.saturating_sub(report.problems.len());
    report.problems.extend(problems.into_iter().take(room));
}

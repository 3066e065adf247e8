//! Checking what a user or another system hands us: any number of files, each by name and
//! bytes, checked one by one and then as transmission sets.

use crate::file::CareplanFile;
use crate::layout::Kind;
use crate::name::{FileName, NameError};
use crate::problem::Problem;
use crate::sets::{self, Transmission};

/// At most this many problems are reported per file; a last line says how the count ends.
pub const MAX_PROBLEMS: usize = 200;

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
}

/// Checks one file: its name, its text, every record, and that writing it back gives the same
/// bytes.
pub fn check_file(name: &str, bytes: &[u8]) -> FileReport {
    let mut problems = Vec::new();
    let file_name = match FileName::parse(name) {
        Ok(parsed) => Some(parsed),
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
    let files: Vec<FileReport> = files.iter().map(|(name, bytes)| check_file(name, bytes)).collect();
    let sets = sets::group(files.iter().filter_map(|f| f.file_name.clone()));
    Report { files, sets }
}

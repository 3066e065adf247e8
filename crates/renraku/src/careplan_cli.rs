//! `renraku careplan check FILE_OR_DIR…`: checks care-plan CSV files and their sets without a
//! server. Exit status 0 only when everything is conformant, 1 when a problem was found, 2 when
//! a path cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use renraku_careplan::check::{Report, check};
use serde_json::json;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files, or directories whose *.CSV files (and 介護予防 *.JPG 家族構成 images) are all
    /// checked.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: CheckArgs) -> ExitCode {
    let mut files = Vec::new();
    for path in &args.paths {
        if let Err(e) = collect(path, &mut files) {
            eprintln!("error: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let report = check(&files);
    if args.json {
        println!("{}", to_json(&report));
    } else {
        print!("{}", to_text(&report));
    }
    if report.is_conformant() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn collect(path: &Path, files: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let ext = entry.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
            if entry.is_file() && matches!(ext.as_deref(), Some("csv" | "jpg")) {
                collect(&entry, files)?;
            }
        }
        return Ok(());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    files.push((name, std::fs::read(path)?));
    Ok(())
}

fn to_text(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        if file.problems.is_empty() {
            out.push_str(&format!("{}: 適合\n", file.name));
        } else {
            out.push_str(&format!("{}: {}件の問題\n", file.name, file.problems.len()));
            for problem in &file.problems {
                out.push_str(&format!("  {}: {problem}\n", file.name));
            }
        }
    }
    for set in &report.sets {
        let state = if set.is_complete() { "揃っています" } else { "不備があります" };
        out.push_str(&format!("送信単位 {} {}: {state}\n", set.stamp, set.kind.label()));
        for problem in &set.problems {
            out.push_str(&format!("  連番 {}: {problem}\n", set.stamp));
        }
    }
    let verdict = if report.is_conformant() { "すべて適合" } else { "不適合あり" };
    out.push_str(&format!("{verdict}（ファイル {}、送信単位 {}）\n", report.files.len(), report.sets.len()));
    let not_checked = report.not_checked();
    if !not_checked.is_empty() {
        out.push_str("確認していない規則（全国のサービスコード表が必要なため）:\n");
        for rule in not_checked {
            out.push_str(&format!("  {}: {}\n", rule.item, rule.rule));
        }
    }
    out
}

fn to_json(report: &Report) -> serde_json::Value {
    json!({
        "conformant": report.is_conformant(),
        "files": report.files.iter().map(|f| json!({
            "file": f.name,
            "kind": f.file_name.as_ref().map(|n| n.kind.prefix()),
            "stamp": f.file_name.as_ref().map(|n| n.stamp.clone()),
            "problems": f.problems.iter().map(|p| json!({
                "line": (p.line > 0).then_some(p.line),
                "column": p.column,
                "item_no": p.item.map(|(no, _)| no),
                "item_name": p.item.map(|(_, name)| name),
                "message": p.message,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "sets": report.sets.iter().map(|s| json!({
            "stamp": s.stamp,
            "kind": s.kind.label(),
            "files": s.files.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            "complete": s.is_complete(),
            "problems": s.problems,
        })).collect::<Vec<_>>(),
        "not_checked": report.not_checked().iter().map(|r| json!({
            "item": r.item,
            "rule": r.rule,
            "reason": "needs the national service-code master",
            "kinds": r.kinds.iter().map(|k| k.prefix()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

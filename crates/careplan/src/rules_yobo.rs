//! Rules of the 介護予防 kinds that span items (the layout's notes): the 「その他」 and
//! 「入院又は入所中」 answers that ask for their detail, periods that must not run backwards, the
//! ＮＯ items of the 支援計画, and the 家族構成 image name, which must be an `UPKIHON_IMAGE` name
//! of the same transmission as its 利用者基本情報 file.

use std::collections::BTreeMap;

use crate::file::{CareplanFile, Record};
use crate::layout::Kind;
use crate::name::FileName;
use crate::problem::Problem;

/// The item of 利用者基本情報 that names the image.
pub const IMAGE_ITEM: &str = "家族構成 画像ファイル名";

fn at(record: &Record<'_>, name: &str, message: impl Into<String>) -> Problem {
    match record.kind.item(name) {
        Some(item) => Problem::item(record.row.line, item, message),
        None => Problem::line(record.row.line, message),
    }
}

fn value<'a>(record: &Record<'a>, name: &str) -> &'a str {
    record.get(name).unwrap_or_default()
}

/// When `code_item` has `code`, `detail_item` must say what it means.
fn detail_needed(
    record: &Record<'_>,
    code_item: &str,
    code: &str,
    detail_item: &str,
    problems: &mut Vec<Problem>,
) {
    if value(record, code_item) == code && value(record, detail_item).is_empty() {
        problems.push(at(record, detail_item, format!("「{code_item}」が {code} のときは内容を記載します")));
    }
}

/// `from` must not come after `to` (both YYYYMMDD; malformed dates are reported elsewhere).
fn in_order(record: &Record<'_>, from: &str, to: &str, problems: &mut Vec<Problem>) {
    let (a, b) = (value(record, from), value(record, to));
    if crate::layout::is_date(a) && crate::layout::is_date(b) && a > b {
        problems.push(at(record, to, format!("「{from}」（{a}）より前の日付です")));
    }
}

pub(crate) fn check(file: &CareplanFile, records: &[Record<'_>], problems: &mut Vec<Problem>) {
    match file.kind {
        Kind::Upkihon => {
            let mut images: BTreeMap<&str, usize> = BTreeMap::new();
            for record in records {
                detail_needed(record, "相談方法", "03", "相談方法(その他の内容)", problems);
                detail_needed(record, "利用者の現況", "02", "利用者の現況(状況補足)", problems);
                in_order(record, "前回相談日", "相談日", problems);
                in_order(record, "認定有効期限開始日", "認定有効期間終了日", problems);
                let image = value(record, IMAGE_ITEM);
                if image.is_empty() {
                    continue;
                }
                match FileName::parse(image) {
                    Ok(name) if name.kind == Kind::UpkihonImage => {
                        // 「利用者基本情報」の1行に対して、1ファイルの「家族構成 画像ファイル」.
                        if let Some(first) = images.insert(image, record.row.line) {
                            problems.push(at(
                                record,
                                IMAGE_ITEM,
                                format!("{first}行目と同じ画像ファイル名です（1レコードに1ファイル）"),
                            ));
                        }
                    }
                    _ => problems.push(at(
                        record,
                        IMAGE_ITEM,
                        "「UPKIHON_IMAGE_送信元事業所番号_サービス種類_送信先事業所番号_サービス種類_作成日時_枝番4桁.JPG」の形式ではありません",
                    )),
                }
            }
        }
        Kind::Upyobo => {
            for record in records {
                in_order(record, "認定有効期間開始日", "認定有効期間終了日", problems);
                in_order(record, "初回作成日", "計画作成(変更)日", problems);
            }
        }
        Kind::UpyoboSub => {
            for record in records {
                for name in ["課題ＮＯ", "支援計画ＮＯ", "利用サービスＮＯ"] {
                    let v = value(record, name);
                    let number =
                        v.bytes().all(|b| b.is_ascii_digit()) && v.parse::<u32>().is_ok_and(|n| n >= 1);
                    if !v.is_empty() && !number {
                        problems.push(at(record, name, "番号は半角数字 1 から 99 です"));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The image an 利用者基本情報 names carries the same offices and stamp as the file itself
/// (「紐づく利用者基本情報のファイルと同様とする」).
pub(crate) fn check_name(file: &CareplanFile, name: &FileName, limit: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if file.kind != Kind::Upkihon {
        return problems;
    }
    for record in file.records() {
        if problems.len() >= limit {
            break;
        }
        let Ok(image) = FileName::parse(value(&record, IMAGE_ITEM)) else { continue };
        if image.kind == Kind::UpkihonImage
            && (image.sender != name.sender || image.receiver != name.receiver || image.stamp != name.stamp)
        {
            problems.push(at(
                &record,
                IMAGE_ITEM,
                "画像ファイル名の事業所番号・サービス種類・作成日時が、この利用者基本情報のファイル名と違います",
            ));
        }
    }
    problems
}

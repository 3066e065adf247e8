//! The 介護予防 golden files (tests/golden/yobo, made by make.py): every kind read, checked clean
//! and written back byte for byte, the image checked as a JPEG, the 3.4 units formed; and a
//! broken copy for every rule of these kinds, refused with line, item number and item name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use renraku_careplan::check::{check, check_file};
use renraku_careplan::file::CareplanFile;
use renraku_careplan::layout::Kind;
use renraku_careplan::name::FileName;
use renraku_careplan::problem::Problem;
use renraku_careplan::sets::SetKind;

fn golden() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/yobo");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn file(prefix: &str) -> (String, Vec<u8>) {
    golden().into_iter().find(|(n, _)| FileName::parse(n).unwrap().kind.prefix() == prefix).unwrap()
}

fn sjis(s: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
}

fn text(bytes: &[u8]) -> String {
    encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned()
}

fn problems(name: &str, bytes: &[u8]) -> Vec<Problem> {
    check_file(name, bytes).problems
}

fn has(problems: &[Problem], line: usize, item: Option<(u16, &str)>, words: &str) -> bool {
    problems.iter().any(|p| p.line == line && p.item == item && p.message.contains(words))
}

/// Replaces field `n` (from 0) of line `line` (from 1) of a file whose first record has no
/// quoted line break before field `n`.
fn with_field(bytes: &[u8], line: usize, n: usize, value: &str) -> Vec<u8> {
    let source = text(bytes);
    let mut lines: Vec<String> = source.split("\r\n").map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[n] = value;
    lines[line - 1] = fields.join(",");
    sjis(&lines.join("\r\n"))
}

#[test]
fn every_yobo_kind_is_read_checked_clean_and_written_back_byte_for_byte() {
    let files = golden();
    let kinds: std::collections::BTreeSet<_> =
        files.iter().map(|(n, _)| FileName::parse(n).unwrap().kind).collect();
    assert_eq!(kinds.len(), Kind::ALL.into_iter().filter(|k| k.is_yobo()).count());
    for (name, bytes) in &files {
        let report = check_file(name, bytes);
        assert!(report.problems.is_empty(), "{name}: {:?}", report.problems);
        let kind = report.file_name.unwrap().kind;
        if kind.is_image() {
            assert!(report.file.is_none(), "an image is not read as CSV");
            continue;
        }
        let parsed = CareplanFile::parse(kind, bytes).unwrap();
        assert_eq!(&parsed.write().unwrap(), bytes, "{name} round trip");
    }
    let report = check(&files);
    assert!(report.is_conformant());
    let sets: Vec<_> = report.sets.iter().map(|s| (s.kind, s.files.len())).collect();
    assert_eq!(sets, [(SetKind::YoboKihon, 6), (SetKind::YoboDeletion, 1), (SetKind::KihonDeletion, 1)]);
}

#[test]
fn basic_information_comes_through_as_written() {
    let (_, bytes) = file("UPKIHON");
    let kihon = CareplanFile::parse(Kind::Upkihon, &bytes).unwrap();
    let person = kihon.records().next().unwrap();
    assert_eq!(person.items().count(), 71);
    assert_eq!(person.get("利用者氏名ﾌﾘｶﾞﾅ"), Some("ｻﾄｳ ﾀﾛｳ"));
    assert_eq!(person.get("今までの生活"), Some("元会社員、\"囲碁\"が趣味"));
    assert_eq!(person.get("１日の生活・すごし方(生活全般)"), Some("朝は散歩、\r\n午後は読書"));
    assert_eq!(
        person.get("家族構成 画像ファイル名"),
        Some("UPKIHON_IMAGE_3334567890_46_4434567890_A6_20261201100000_0001.JPG")
    );
}

#[test]
fn broken_yobo_items_are_named_by_line_number_and_name() {
    let (name, bytes) = file("UPKIHON");
    let p = problems(&name, &with_field(&bytes, 1, 4, "3"));
    assert!(has(&p, 1, Some((5, "計画種類")), "介護予防支援"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 3, ""));
    assert!(has(&p, 1, Some((4, "相談日")), "必須"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 20, "13"));
    assert!(p.iter().any(|p| p.item == Some((21, "障害高齢者の日常生活自立度"))), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 22, "06"));
    assert!(p.iter().any(|p| p.item == Some((23, "要介護状態区分"))), "06 is not a code here; {p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 13, "ｻﾄｳ"));
    assert!(has(&p, 1, Some((14, "利用者氏名ﾌﾘｶﾞﾅ")), "囲み"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 34, "100"));
    assert!(has(&p, 1, Some((35, "自室の階数")), "2桁"), "{p:?}");

    let (name, bytes) = file("UPYOBO");
    let p = problems(&name, &with_field(&bytes, 1, 13, "4"));
    assert!(has(&p, 1, Some((14, "要支援状態区分")), "地域支援事業"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 48, "3"));
    assert!(has(&p, 1, Some((49, "事業プログラムの要否(運動不足)")), "要"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 7, "\"\""));
    assert!(has(&p, 1, Some((8, "利用者名")), "必須"), "{p:?}");

    let (name, bytes) = file("UPKIHON_SUB2");
    let p = problems(&name, &with_field(&bytes, 1, 9, "04"));
    assert!(has(&p, 1, Some((10, "経過")), "治療中"), "{p:?}");
    let (name, bytes) = file("DLTKIHON");
    let p = problems(&name, &with_field(&bytes, 1, 3, "20261131"));
    assert!(has(&p, 1, Some((4, "相談日")), "日付"), "{p:?}");
    let (name, bytes) = file("DLTYOBO");
    let p = problems(&name, &with_field(&bytes, 1, 3, ""));
    assert!(has(&p, 1, Some((4, "計画作成(変更)日")), "必須"), "{p:?}");
}

/// 「03:その他」の場合は「相談方法(その他の内容)」に、「02:入院又は入所中」の場合は「利用者の現況
/// (状況補足)」に内容を記載する.
#[test]
fn other_and_in_hospital_need_their_detail() {
    let (name, bytes) = file("UPKIHON");
    let p = problems(&name, &with_field(&bytes, 1, 7, "03"));
    assert!(has(&p, 1, Some((9, "相談方法(その他の内容)")), "03"), "{p:?}");
    assert!(problems(&name, &with_field(&with_field(&bytes, 1, 7, "03"), 1, 8, "\"訪問\"")).is_empty());
    let p = problems(&name, &with_field(&bytes, 1, 11, "02"));
    assert!(has(&p, 1, Some((13, "利用者の現況(状況補足)")), "02"), "{p:?}");
}

#[test]
fn periods_do_not_run_backwards() {
    let (name, bytes) = file("UPKIHON");
    let p = problems(&name, &with_field(&bytes, 1, 10, "20261111"));
    assert!(has(&p, 1, Some((4, "相談日")), "前回相談日"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 24, "20260331"));
    assert!(has(&p, 1, Some((25, "認定有効期間終了日")), "認定有効期限開始日"), "{p:?}");
    let (name, bytes) = file("UPYOBO");
    let p = problems(&name, &with_field(&bytes, 1, 10, "20260331"));
    assert!(has(&p, 1, Some((11, "認定有効期間終了日")), "開始日"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 19, "20261116"));
    assert!(has(&p, 1, Some((4, "計画作成(変更)日")), "初回作成日"), "{p:?}");
}

#[test]
fn numbers_of_the_support_plan_are_half_width_from_one() {
    let (name, bytes) = file("UPYOBO_SUB");
    for (field, no, item) in [(4, 5, "課題ＮＯ"), (9, 10, "支援計画ＮＯ"), (13, 14, "利用サービスＮＯ")]
    {
        for bad in ["\"１\"", "\"0\"", "\"A\""] {
            let p = problems(&name, &with_field(&bytes, 2, field, bad));
            assert!(has(&p, 2, Some((no, item)), "1 から 99"), "{bad}: {p:?}");
        }
    }
    // The layout makes them free text: unquoted they are refused.
    let p = problems(&name, &with_field(&bytes, 2, 4, "1"));
    assert!(has(&p, 2, Some((5, "課題ＮＯ")), "囲み"), "{p:?}");
}

#[test]
fn the_family_image_name_is_an_image_name_of_the_same_transmission() {
    let (name, bytes) = file("UPKIHON");
    let source = text(&bytes);
    let image = "UPKIHON_IMAGE_3334567890_46_4434567890_A6_20261201100000_0001.JPG";
    let p = problems(&name, &sjis(&source.replace(image, "family.jpg")));
    assert!(has(&p, 1, Some((62, "家族構成 画像ファイル名")), "UPKIHON_IMAGE_"), "{p:?}");
    let other = image.replace("20261201100000", "20261130100000");
    let p = problems(&name, &sjis(&source.replace(image, &other)));
    assert!(has(&p, 1, Some((62, "家族構成 画像ファイル名")), "作成日時"), "{p:?}");
    // Two records naming one image (the first spans lines 1–2: a quoted line break).
    let record = source.trim_end_matches("\r\n");
    let p = problems(&name, &sjis(&format!("{record}\r\n{record}\r\n")));
    assert!(has(&p, 3, Some((62, "家族構成 画像ファイル名")), "1行目と同じ"), "{p:?}");
}

#[test]
fn the_image_is_checked_as_a_jpeg_not_read_as_csv() {
    let (name, bytes) = file("UPKIHON_IMAGE");
    assert!(problems(&name, &bytes).is_empty());
    let p = problems(&name, b"202407,122203\r\n");
    assert!(has(&p, 0, None, "JPEG"), "{p:?}");
    let p = problems(&name, &bytes[..bytes.len() - 2]);
    assert!(has(&p, 0, None, "FFD9"), "{p:?}");
    let p = problems(&name.replace(".JPG", ".PNG"), &bytes);
    assert!(!p.is_empty());
    let report = check_file(&name, &bytes);
    assert!(report.file.is_none());
}

#[test]
fn a_month_in_a_yobo_name_is_refused_with_the_reason() {
    let (name, bytes) = file("UPKIHON");
    let with_month = name.replacen("UPKIHON_", "UPKIHON_000000_", 1);
    let p = problems(&with_month, &bytes);
    assert!(has(&p, 0, None, "年月はありません"), "{p:?}");
}

/// 仕様 3.3: 別表1・別表2 hang on the 利用者基本情報 (by 相談日), the 別表 on the 支援計画書 (by
/// 計画作成(変更)日); a 別表 of another date is refused on the 別表, naming its parent.
#[test]
fn a_table_without_its_main_record_is_refused_on_the_table() {
    let mut files = golden();
    for (prefix, from, to) in [
        ("UPKIHON_SUB1", "0223456789,20261110,", "0223456789,20261111,"),
        ("UPYOBO_SUB", "0223456789,20261115,", "0223456789,20261116,"),
    ] {
        let (_, bytes) = files
            .iter_mut()
            .find(|(n, _)| FileName::parse(n).is_ok_and(|f| f.kind.prefix() == prefix))
            .unwrap();
        let changed = text(bytes).replace(from, to);
        assert_ne!(changed, text(bytes));
        *bytes = sjis(&changed);
    }
    let report = check(&files);
    let of = |prefix: &str| {
        report
            .files
            .iter()
            .find(|f| f.file_name.as_ref().unwrap().kind.prefix() == prefix)
            .unwrap()
            .problems
            .clone()
    };
    let p = of("UPKIHON_SUB1");
    assert!(
        has(
            &p,
            1,
            Some((4, "相談日")),
            "（UPKIHON）に、保険者番号 122203・被保険者番号 0223456789・相談日 20261111 の記録がありません"
        ),
        "{p:?}"
    );
    assert_eq!(p.len(), 1, "once per person and date: {p:?}");
    let p = of("UPYOBO_SUB");
    assert!(has(&p, 1, Some((4, "計画作成(変更)日")), "（UPYOBO）に"), "{p:?}");
    assert!(of("UPKIHON_SUB2").is_empty() && of("UPKIHON").is_empty() && of("UPYOBO").is_empty());
}

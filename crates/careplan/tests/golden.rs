//! The hand-built golden files (tests/golden, made from the layout by make.py): every kind is
//! read, checked clean, and written back byte for byte; broken copies are refused with the
//! file, line, item number and item name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use renraku_careplan::check::{check, check_file};
use renraku_careplan::file::CareplanFile;
use renraku_careplan::layout::Kind;
use renraku_careplan::name::FileName;
use renraku_careplan::problem::Problem;
use renraku_careplan::sets::SetKind;

fn golden() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "CSV"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn file(prefix: &str) -> (String, Vec<u8>) {
    golden().into_iter().find(|(n, _)| n.starts_with(prefix)).unwrap()
}

fn sjis(s: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
}

fn text(bytes: &[u8]) -> String {
    encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned()
}

/// The problems of `name` with `bytes`, as (line, item number, item name, message).
fn problems(name: &str, bytes: &[u8]) -> Vec<Problem> {
    check_file(name, bytes).problems
}

fn has(problems: &[Problem], line: usize, item: Option<(u16, &str)>, words: &str) -> bool {
    problems.iter().any(|p| p.line == line && p.item == item && p.message.contains(words))
}

#[test]
fn every_kind_is_read_checked_clean_and_written_back_byte_for_byte() {
    let files = golden();
    let kinds: std::collections::BTreeSet<_> =
        files.iter().map(|(n, _)| FileName::parse(n).unwrap().kind).collect();
    // The 介護予防 kinds have theirs in golden/yobo (tests/golden_yobo.rs).
    let kyotaku = Kind::ALL.into_iter().filter(|k| !k.is_yobo()).count();
    assert_eq!(kinds.len(), kyotaku, "a golden file for every kind");
    for (name, bytes) in &files {
        let report = check_file(name, bytes);
        assert!(report.problems.is_empty(), "{name}: {:?}", report.problems);
        let kind = report.file_name.unwrap().kind;
        let parsed = CareplanFile::parse(kind, bytes).unwrap();
        assert_eq!(&parsed.write().unwrap(), bytes, "{name} round trip");
    }
    let report = check(&files);
    assert!(report.is_conformant());
    let sets: Vec<_> = report.sets.iter().map(|s| s.kind).collect();
    assert_eq!(
        sets,
        [
            SetKind::Plan,
            SetKind::Provision,
            SetKind::PlanDeletion,
            SetKind::ProvisionDeletion,
            SetKind::Actual,
            SetKind::ActualDeletion
        ]
    );
}

#[test]
fn japanese_text_and_quoted_fields_come_through_as_written() {
    let (_, bytes) = file("UP2KYO");
    let plan = CareplanFile::parse(Kind::Up2kyo, &bytes).unwrap();
    let first = plan.records().next().unwrap();
    assert_eq!(
        first.get("課題"),
        Some("自宅で安全に入浴したい、\"できれば\"毎日\r\n（転倒に注意）, 家族の負担を減らす")
    );
    assert_eq!(first.get("サービス事業所名"), Some("㈱さくら訪問看護ステーション"));
    assert_eq!(first.get("保険対象区分"), Some("Y"));
    let (_, bytes) = file("UPHOSOKU_000000");
    let supplement = CareplanFile::parse(Kind::Uphosoku, &bytes).unwrap();
    let person = supplement.records().next().unwrap();
    assert_eq!(person.get("利用者氏名"), Some("髙橋 花子"));
    assert_eq!(person.get("利用者住所２"), Some("①号室"));
    assert_eq!(person.get("被保険者番号"), Some("0123456789"));
    assert_eq!(person.items().count(), 63);
}

/// Replaces the `n`th comma-separated field (from 0) of line `line` (from 1) of a file without
/// quoted line breaks.
fn with_field(bytes: &[u8], line: usize, n: usize, value: &str) -> Vec<u8> {
    let source = text(bytes);
    let mut lines: Vec<String> = source.split("\r\n").map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[n] = value;
    lines[line - 1] = fields.join(",");
    sjis(&lines.join("\r\n"))
}

#[test]
fn broken_items_are_named_by_line_number_and_name() {
    let (name, bytes) = file("UPHOSOKU_202612");
    let p = problems(&name, &with_field(&bytes, 1, 6, "3"));
    assert!(has(&p, 1, Some((7, "利用者性別")), "男性"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 2, ""));
    assert!(has(&p, 1, Some((3, "被保険者番号")), "必須"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 7, "20260230"));
    assert!(p.iter().any(|p| p.item == Some((8, "利用者生年月日"))), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 2, "H12345678"));
    assert!(p.iter().any(|p| p.item == Some((3, "被保険者番号"))), "{p:?}");
    assert!(problems(&name, &with_field(&bytes, 1, 2, "H123456789")).is_empty(), "生保単独 H+9 digits");
    // The month inside must be the month of the name.
    let p = problems(&name, &with_field(&bytes, 1, 62, "202611"));
    assert!(has(&p, 1, Some((63, "対象年月")), "ファイル名"), "{p:?}");
    // A record with an item too few.
    let source = text(&bytes);
    let short = sjis(&source.replacen(",202612\r\n", "\r\n", 1));
    let p = problems(&name, &short);
    assert!(has(&p, 1, None, "項目数が63ではありません（62項目あります）"), "{p:?}");

    let (name, bytes) = file("UP2KYO");
    let p = problems(&name, &with_field(&bytes, 3, 14, "X"));
    assert!(has(&p, 3, Some((15, "保険対象区分")), ""), "line 3: after the quoted line break; {p:?}");
    // Two CSVバージョン in one file.
    let p = problems(&name, &with_field(&bytes, 3, 0, "202404"));
    assert!(has(&p, 3, Some((1, "CSVバージョン")), "混在"), "{p:?}");

    let (name, bytes) = file("UPPLAN");
    let p = problems(&name, &with_field(&bytes, 1, 9, "20261130"));
    assert!(has(&p, 1, Some((10, "サービス利用日")), "対象年月"), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 1, 11, "2500"));
    assert!(p.iter().any(|p| p.item == Some((12, "サービス開始時刻"))), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 3, 15, ""));
    assert!(has(&p, 3, Some((16, "TAISコード")), "福祉用具"), "{p:?}");

    // 第7表 without its total row, and with a discount on a subtotal row.
    let (name, bytes) = file("UPSIKYU");
    let source = text(&bytes);
    let without_total: String = source.split_inclusive("\r\n").filter(|l| !l.contains(",999999,")).collect();
    let p = problems(&name, &sjis(&without_total));
    assert!(p.iter().any(|p| p.message.contains("全合計の行")), "{p:?}");
    let p = problems(&name, &with_field(&bytes, 2, 13, "090"));
    assert!(has(&p, 2, Some((14, "割引後率")), "小計"), "{p:?}");
}

#[test]
fn unreadable_text_is_refused_with_line_and_column() {
    let (name, bytes) = file("UP3KYO");
    let mut broken = bytes.clone();
    let second_line = broken.iter().position(|b| *b == b'\n').unwrap() + 1;
    broken[second_line + 3] = 0xA0; // not a Shift_JIS byte
    let p = problems(&name, &broken);
    assert_eq!((p[0].line, p[0].column), (2, Some(4)), "{p:?}");
    let utf8 = text(&bytes).into_bytes();
    let p = problems(&name, &utf8);
    assert!(p[0].message.contains("UTF-8"), "{p:?}");
    let unclosed = sjis(&text(&bytes).replacen("\"訪問看護\"", "\"訪問看護", 1));
    // The quote now runs on to the next line's first quote; the text after it is where the
    // file stops making sense.
    let p = problems(&name, &unclosed);
    assert_eq!((p[0].line, p[0].column.is_some()), (2, true), "{p:?}");
}

#[test]
fn names_of_the_older_interface_and_incomplete_sets_are_reported() {
    let (_, bytes) = file("UP1KYO");
    let p = problems("UP1KYO_1234567890_2234567890_20261120093000.CSV", &bytes);
    assert!(p[0].message.contains("v3"), "{p:?}");
    let files: Vec<_> = golden().into_iter().filter(|(n, _)| !n.starts_with("UP3KYO")).collect();
    let report = check(&files);
    assert!(!report.is_conformant());
    let plan = report.sets.iter().find(|s| s.kind == SetKind::Plan).unwrap();
    assert!(plan.problems.iter().any(|p| p.contains("UP3KYO がありません")), "{:?}", plan.problems);
}

#[test]
fn characters_outside_ms932_are_named_on_write_never_replaced() {
    let (_, bytes) = file("UPHOSOKU_000000");
    let mut supplement = CareplanFile::parse(Kind::Uphosoku, &bytes).unwrap();
    supplement.text.rows[0].fields[5].value = "𠮷田 花子".into();
    let problems = supplement.write().unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].item, Some((6, "利用者氏名")));
    assert!(problems[0].message.contains("𠮷"), "{}", problems[0]);
}

fn multi_person() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/multi-person");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// 仕様 2.6: 「各ファイルに含める利用者は任意とする」 — a 第7表 for two people, each with their own
/// 種類別小計 and 全合計 rows, is one conformant transmission.
#[test]
fn a_summary_file_for_two_people_with_their_own_totals_checks_clean() {
    let files = multi_person();
    assert_eq!(files.len(), 3);
    for (name, bytes) in &files {
        let p = problems(name, bytes);
        assert!(p.is_empty(), "{name}: {p:?}");
    }
    let report = check(&files);
    assert!(report.is_conformant(), "{:?}", report.files);
    assert_eq!(report.sets.iter().map(|s| s.kind).collect::<Vec<_>>(), [SetKind::Provision]);
}

/// Totals and subtotals are counted per person (保険者番号 + 被保険者番号), never across people.
#[test]
fn totals_and_subtotals_of_a_summary_file_belong_to_each_person() {
    let (name, bytes) = multi_person().into_iter().find(|(n, _)| n.starts_with("UPSIKYU")).unwrap();
    let source = text(&bytes);
    let lines: Vec<&str> = source.split_inclusive("\r\n").collect();
    // The second person (lines 5–9) with a second 全合計 row: refused at that row.
    let twice: String = lines.iter().copied().chain([lines[8]]).collect();
    let p = problems(&name, &sjis(&twice));
    assert!(has(&p, 10, None, "全合計の行（サービスコード 999999）は1人に1行だけです"), "{p:?}");
    assert!(p.iter().all(|p| p.line == 10), "only the extra row: {p:?}");
    // The first person without a 全合計 row: named at that person's last row.
    let without: String = lines.iter().enumerate().filter(|(i, _)| *i != 3).map(|(_, l)| *l).collect();
    let p = problems(&name, &sjis(&without));
    assert!(has(&p, 3, None, "0123456789 の全合計の行（サービスコード 999999）がありません"), "{p:?}");
    // The second person's two 訪問看護 rows without their 13AAAA: the first person's 13AAAA
    // does not stand in for it.
    let no_subtotal: String = lines.iter().enumerate().filter(|(i, _)| *i != 6).map(|(_, l)| *l).collect();
    let p = problems(&name, &sjis(&no_subtotal));
    assert!(has(&p, 5, Some((9, "サービスコード")), "13AAAA"), "{p:?}");
    // One 訪問看護 row for each person needs no subtotal.
    let single: String =
        lines.iter().enumerate().filter(|(i, _)| ![1, 5, 6].contains(i)).map(|(_, l)| *l).collect();
    let p = problems(&name, &sjis(&single));
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn detail_code_of_the_6th_table_is_for_welfare_equipment_only_and_counts_from_one() {
    for prefix in ["UPPLAN", "UPJSK"] {
        let (name, bytes) = file(prefix);
        // Line 1 is 131111 訪問看護: 「「17:福祉用具貸与」以外の場合は「Null（空）」とする」.
        let p = problems(&name, &with_field(&bytes, 1, 18, "1"));
        assert!(has(&p, 1, Some((19, "明細判別コード")), "17:福祉用具貸与"), "{prefix}: {p:?}");
    }
    let (name, bytes) = file("UPPLAN");
    // Line 3 is 171001 福祉用具貸与: 「1 からの連番」, so 0 is refused and 100 is not.
    let p = problems(&name, &with_field(&bytes, 3, 18, "0"));
    assert!(has(&p, 3, Some((19, "明細判別コード")), "1 から"), "{p:?}");
    assert!(problems(&name, &with_field(&bytes, 3, 18, "1")).is_empty());
    let p = problems(&name, &with_field(&bytes, 3, 18, "100"));
    assert!(p.is_empty(), "the layout gives no length: {p:?}");
}

#[test]
fn units_of_subtotal_and_total_rows_of_the_7th_table_are_zero() {
    let (name, bytes) = file("UPSIKYU");
    // Line 2 is the 13AAAA subtotal, line 4 the 999999 total: 「種類別小計及び全合計の場合は0 固定」.
    for line in [2, 4] {
        let p = problems(&name, &with_field(&bytes, line, 12, "000821"));
        assert!(has(&p, line, Some((13, "単位数")), "0 固定"), "line {line}: {p:?}");
    }
    // A service row keeps its units.
    assert!(problems(&name, &with_field(&bytes, 1, 12, "000822")).is_empty());
}

#[test]
fn office_code_of_the_7th_table_is_fixed_and_its_identifier_unused() {
    let (name, bytes) = file("UPSIKYU");
    // Item 34 事業所コード: 「9999999999を固定でセット」.
    let p = problems(&name, &with_field(&bytes, 1, 33, "2234567890"));
    assert!(has(&p, 1, Some((34, "事業所コード")), "9999999999"), "{p:?}");
    // Item 35 入力者コード has no fixed value.
    assert!(problems(&name, &with_field(&bytes, 3, 34, "2234567890")).is_empty());
    // Item 37 識別子: 「※使用しない」.
    let p = problems(&name, &with_field(&bytes, 4, 36, "1"));
    assert!(has(&p, 4, Some((37, "識別子")), "使用しない"), "{p:?}");
}

#[test]
fn insured_numbers_are_ten_digits_or_h_and_nine_digits() {
    let (name, bytes) = file("UPHOSOKU_202612");
    for bad in ["AB12345678", "12345678X0", "HA12345678"] {
        let p = problems(&name, &with_field(&bytes, 1, 2, bad));
        assert!(has(&p, 1, Some((3, "被保険者番号")), "H"), "{bad}: {p:?}");
    }
}

#[test]
fn a_character_outside_ms932_is_reported_once_with_its_code_point() {
    // 外字 (user-defined area F040, read as U+E000) in place of 「花」 of 利用者氏名 on line 1.
    let (name, bytes) = file("UPHOSOKU_202612");
    let flower = sjis("花");
    let at = bytes.windows(2).position(|w| w == flower.as_slice()).unwrap();
    let mut broken = bytes.clone();
    broken[at..at + 2].copy_from_slice(&[0xF0, 0x40]);
    let p = problems(&name, &broken);
    let about: Vec<_> = p.iter().filter(|p| p.message.contains("MS932")).collect();
    assert_eq!(about.len(), 1, "{p:?}");
    assert_eq!(about[0].line, 1);
    assert_eq!(about[0].item, Some((6, "利用者氏名")));
    assert!(about[0].message.contains("U+E000"), "{}", about[0].message);
}

#[test]
fn a_quoted_code_or_date_is_read_as_its_value_and_written_back_quoted() {
    // The layout requires quotes around free text only; quotes around a date or a code are not
    // part of the value (issue 10, item 12).
    let (name, bytes) = file("UPHOSOKU_202612");
    let quoted = with_field(&bytes, 1, 7, "\"19380401\"");
    let report = check_file(&name, &quoted);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let parsed = report.file.unwrap();
    assert_eq!(parsed.records().next().unwrap().get("利用者生年月日"), Some("19380401"));
    assert_eq!(parsed.write().unwrap(), quoted);
    // The value inside the quotes is still checked.
    let p = problems(&name, &with_field(&bytes, 1, 7, "\"19380230\""));
    assert!(p.iter().any(|p| p.item == Some((8, "利用者生年月日"))), "{p:?}");
    // Free text without quotes is still refused.
    let unquoted = text(&bytes).replacen("\"髙橋 花子\"", "髙橋 花子", 1);
    let p = problems(&name, &sjis(&unquoted));
    assert!(has(&p, 1, Some((6, "利用者氏名")), "囲みます"), "{p:?}");
}

/// 仕様 2.3: 第2表・第3表・補足 hang on the 第1表, 第7表・補足 on the 第6表 of the same unit. A
/// dependent file naming a person or date its parent does not have is refused, on the dependent
/// file, at the first such row, naming the parent.
#[test]
fn a_dependent_file_without_its_parent_record_is_refused_on_the_dependent() {
    let mut files = golden();
    let changed = |files: &mut Vec<(String, Vec<u8>)>, prefix: &str, from: &str, to: &str| {
        let (name, bytes) = files.iter_mut().find(|(n, _)| n.starts_with(prefix)).unwrap();
        let changed = text(bytes).replacen(from, to, 1);
        assert_ne!(changed, text(bytes));
        *bytes = sjis(&changed);
        name.clone()
    };
    // The 第2表 for another 計画作成日 than the 第1表's.
    let plan = changed(&mut files, "UP2KYO", "0123456789,20261115,20261115", "0123456789,20261115,20261116");
    // The 第7表 for a person the 第6表 does not have.
    let summary = changed(&mut files, "UPSIKYU", "122203,0123456789", "122203,0123456780");
    let report = check(&files);
    assert!(!report.is_conformant());
    let of = |name: &str| report.files.iter().find(|f| f.name == name).unwrap().problems.clone();
    let p = of(&plan);
    assert!(
        has(
            &p,
            1,
            Some((5, "居宅サービス計画作成（変更）日")),
            "居宅サービス計画書(1)（第1表）（UP1KYO）に、保険者番号 122203・被保険者番号 0123456789・居宅サービス計画作成（変更）日 20261116 の記録がありません"
        ),
        "{p:?}"
    );
    assert_eq!(p.len(), 1, "once per person and date: {p:?}");
    let p = of(&summary);
    assert!(
        has(&p, 1, Some((5, "対象年月")), "（UPPLAN）に、保険者番号 122203・被保険者番号 0123456780"),
        "{p:?}"
    );
    // The parents themselves and the unchanged dependents are clean.
    for (name, _) in files.iter().filter(|(n, _)| *n != plan && *n != summary) {
        assert!(of(name).is_empty(), "{name}: {:?}", of(name));
    }
}

/// Layout item 1: 「CSVバージョンが変更された場合、新しいバージョンの適用年月となるサービス提供年月から
/// 適用する」 — 202407 (v4.1) applies from サービス提供年月 202504; earlier months need 202208.
#[test]
fn the_csv_version_is_the_one_of_the_service_month() {
    let (name, bytes) = file("DLTPLAN");
    let content = |version: &str, month: &str| {
        sjis(
            &text(&bytes).replace("202407,", &format!("{version},")).replace(",202612", &format!(",{month}")),
        )
    };
    let named = |month: &str| name.replace("_202612_", &format!("_{month}_"));
    // The first month of v4.1, and any later one.
    for month in ["202504", "202612"] {
        let p = problems(&named(month), &content("202407", month));
        assert!(p.is_empty(), "{month}: {p:?}");
    }
    // A month before 202504 needs 202208: refused, naming the version and why.
    let p = problems(&named("202503"), &content("202407", "202503"));
    assert!(has(&p, 1, Some((1, "CSVバージョン")), "202208"), "{p:?}");
    assert!(p[0].message.contains("202504 から適用"), "{p:?}");
    // A 202208 file of such a month has the right version but a layout not checked here.
    let p = problems(&named("202503"), &content("202208", "202503"));
    assert!(has(&p, 1, Some((1, "CSVバージョン")), "対象外"), "{p:?}");
    // 202208 for a month from 202504 on.
    let p = problems(&name, &content("202208", "202612"));
    assert!(has(&p, 1, Some((1, "CSVバージョン")), "202407（標準仕様 v4.1"), "{p:?}");
    // The month is the 対象年月 inside (a 第6表 of 202503).
    let (name, bytes) = file("UPSIKYU");
    let march = sjis(&text(&bytes).replace(",202612,", ",202503,"));
    let p = problems(&name.replace("_202612_", "_202503_"), &march);
    assert!(has(&p, 1, Some((1, "CSVバージョン")), "サービス提供年月 202503"), "{p:?}");
    // 第1表 has no service month: 202407, whatever the plan's date.
    let (name, bytes) = file("UP1KYO");
    let p = problems(&name, &with_field(&bytes, 1, 0, "202208"));
    assert!(has(&p, 1, Some((1, "CSVバージョン")), "202407"), "{p:?}");
}

/// UPHOSOKU items 20–55: 「サービス種類別限度額管理が必要な場合は１枠から順番に設定する」 and
/// 「短期入所療養介護の場合は22:短期入所療養介護（介護老人保健施設）を設定する」.
#[test]
fn limit_slots_of_the_supplement_start_at_slot_one_and_take_short_stay_as_22() {
    let (name, bytes) = file("UPHOSOKU_202612");
    // Slot 1 (items 20–23, fields 19–22) moved to slot 3 (items 28–31): slots 1 and 2 are empty.
    let mut moved = bytes.clone();
    for (n, value) in [
        (19, ""),
        (20, ""),
        (21, ""),
        (22, ""),
        (27, "13"),
        (28, "0016765"),
        (29, "0009800"),
        (30, "0000000"),
    ] {
        moved = with_field(&moved, 1, n, value);
    }
    let p = problems(&name, &moved);
    assert!(has(&p, 1, Some((28, "３サービス種類コード")), "１枠から順番"), "{p:?}");
    assert_eq!(p.len(), 1, "{p:?}");
    // A slot with only an amount counts as set.
    let p = problems(&name, &with_field(&bytes, 1, 33, "0001000"));
    assert!(has(&p, 1, Some((32, "４サービス種類コード")), "２枠が空"), "{p:?}");
    // Slots 1 and 2 both set: fine.
    assert!(problems(&name, &with_field(&bytes, 1, 23, "15")).is_empty());
    for code in ["23", "2A"] {
        let p = problems(&name, &with_field(&bytes, 1, 19, code));
        assert!(has(&p, 1, Some((20, "１サービス種類コード")), "22:短期入所療養介護"), "{code}: {p:?}");
    }
    assert!(problems(&name, &with_field(&bytes, 1, 19, "22")).is_empty());
}

/// UPSIKYU item 9: 「区分支給対象種類別小計：CD+'AAAA'（サービスコードが複数行の場合は必須）」,
/// 「区分支給対象外種類別小計：CD+'EEEE'（任意出力）」, 「30 日超過分種類別小計：CD+'ZZZZ'（任意出力）」.
#[test]
fn only_an_aaaa_subtotal_stands_for_several_rows_inside_the_limit() {
    let (name, bytes) = multi_person().into_iter().find(|(n, _)| n.starts_with("UPSIKYU")).unwrap();
    // Lines 5 and 6 are the second person's two 訪問看護 rows, line 7 their 13AAAA.
    for optional in ["13EEEE", "13ZZZZ"] {
        let p = problems(&name, &with_field(&bytes, 7, 8, optional));
        assert!(has(&p, 5, Some((9, "サービスコード")), "13AAAA"), "{optional}: {p:?}");
        assert!(p[0].message.contains("任意出力"), "{p:?}");
    }
    // The second row outside the 区分支給限度 (no 給付管理単位数): one row inside, no AAAA needed.
    let source = text(&with_field(&bytes, 6, 17, ""));
    let without_subtotal: String =
        source.split_inclusive("\r\n").enumerate().filter(|(i, _)| *i != 6).map(|(_, l)| l).collect();
    let p = problems(&name, &sjis(&without_subtotal));
    assert!(p.is_empty(), "{p:?}");
}

/// 仕様 1.3・1.4 list the サービス種類 of the exchange; 2.6: 「連携対象外のサービス種類が含まれる場合は、
/// そのサービスのレコードは生成しない」. 第7表's subtotal and total codes are not services of 第6表.
#[test]
fn services_outside_the_exchange_and_summary_codes_on_the_6th_table_are_refused() {
    for prefix in ["UPPLAN", "UPJSK"] {
        let (name, bytes) = file(prefix);
        // 33 特定施設入居者生活介護 and 51 介護福祉施設サービス are 対象外; 99 is no type of the standard.
        for (code, words) in [
            ("331111", "33（特定施設入居者生活介護）は連携対象外"),
            ("511111", "連携対象外"),
            ("991111", "99 は標準仕様"),
        ] {
            let p = problems(&name, &with_field(&bytes, 1, 14, code));
            assert!(has(&p, 1, Some((15, "サービスコード")), words), "{prefix} {code}: {p:?}");
        }
        for code in ["13AAAA", "13EEEE", "13ZZZZ", "999999"] {
            let p = problems(&name, &with_field(&bytes, 1, 14, code));
            assert!(
                has(&p, 1, Some((15, "サービスコード")), "第6表では使えません"),
                "{prefix} {code}: {p:?}"
            );
        }
        // Targets with a letter, and short-term use of a 特定施設: fine.
        for code in ["2A1111", "A21111", "271111"] {
            let p = problems(&name, &with_field(&bytes, 1, 14, code));
            assert!(p.is_empty(), "{prefix} {code}: {p:?}");
        }
    }
    let (name, bytes) = file("UPSIKYU");
    let p = problems(&name, &with_field(&bytes, 1, 8, "321111"));
    assert!(
        has(&p, 1, Some((9, "サービスコード")), "32（認知症対応型共同生活介護（短期利用以外））は連携対象外"),
        "{p:?}"
    );
    let p = problems(&name, &with_field(&bytes, 2, 8, "42AAAA"));
    assert!(has(&p, 2, Some((9, "サービスコード")), "連携対象外"), "{p:?}");
    let (name, bytes) = file("DLTJSK");
    let p = problems(&name, &with_field(&bytes, 1, 5, "41"));
    assert!(has(&p, 1, Some((6, "サービス種類コード")), "連携対象外"), "{p:?}");
    assert!(problems(&name, &with_field(&bytes, 1, 5, "2A")).is_empty());
}

/// The service office's サービス種類コード in a file name is a target of the exchange: the
/// receiver of what the care manager sends, the sender of 実績 and its deletion.
#[test]
fn file_names_with_a_service_type_outside_the_exchange_are_refused() {
    let (name, bytes) = file("UPPLAN");
    let to = |kind: &str| name.replace("2234567890_13", &format!("2234567890_{kind}"));
    let p = problems(&to("33"), &bytes);
    assert!(has(&p, 0, None, "送信先のサービス種類コード 33（特定施設入居者生活介護）は連携対象外"), "{p:?}");
    let p = problems(&to("99"), &bytes);
    assert!(has(&p, 0, None, "送信先のサービス種類コード 99"), "{p:?}");
    for kind in ["11", "2A", "A3", "43"] {
        assert!(problems(&to(kind), &bytes).is_empty(), "{kind}");
    }
    let (name, bytes) = file("UPJSK");
    let p = problems(&name.replace("2234567890_13", "2234567890_51"), &bytes);
    assert!(has(&p, 0, None, "送信元のサービス種類コード 51（介護福祉施設サービス）は連携対象外"), "{p:?}");
    // The name stays readable: the file still joins its set.
    let report = check_file(&name.replace("2234567890_13", "2234567890_51"), &bytes);
    assert!(report.file_name.is_some());
}

/// Rules that need the national service-code master are listed for the files they concern, so a
/// conformant verdict never overstates (issue 10, items 10 and 15).
#[test]
fn the_report_names_the_rules_it_could_not_check() {
    let report = check(&golden());
    assert!(report.is_conformant());
    let items: Vec<&str> = report.not_checked().iter().map(|r| r.item).collect();
    assert!(items.iter().any(|i| i.contains("日割対象日")), "{items:?}");
    assert!(items.iter().any(|i| i.contains("サービス開始時刻")), "{items:?}");
    assert!(items.iter().any(|i| i.contains("単位数")), "{items:?}");
    assert!(items.iter().any(|i| i.contains("項目18「給付管理単位数」")), "{items:?}");
    assert_eq!(items.len(), renraku_careplan::check::NEEDS_MASTER.len());
    // 計画書 alone: nothing of the kind to leave out.
    let plans: Vec<_> = golden().into_iter().filter(|(n, _)| n.starts_with("UP1KYO")).collect();
    assert!(check(&plans).not_checked().is_empty());
}

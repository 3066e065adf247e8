//! Rules that span items or rows (layout notes and 仕様 2.3): the CSVバージョン of v4.1, months
//! that must agree with the file name, 日割対象日 within the month, 福祉用具 codes, and the
//! subtotal and total rows of 第7表 (per person).

use std::collections::BTreeMap;

use crate::file::{CSV_VERSION, CareplanFile, Record};
use crate::layout::{Exchange, Kind};
use crate::name::FileName;
use crate::problem::Problem;

/// A problem about the item called `name` of `record`.
fn at(record: &Record<'_>, name: &str, message: impl Into<String>) -> Problem {
    match record.kind.item(name) {
        Some(item) => Problem::item(record.row.line, item, message),
        None => Problem::line(record.row.line, message),
    }
}

/// Whether the record's fields line up with the layout (the item count was checked before).
fn complete(record: &Record<'_>) -> bool {
    record.row.fields.len() == record.kind.items().len()
}

fn days_in_month(year_month: &str) -> Option<usize> {
    if !crate::layout::is_year_month(year_month) {
        return None;
    }
    let (year, month) = (year_month[..4].parse().ok()?, year_month[4..].parse().ok()?);
    Some(crate::layout::days_in_month(year, month) as usize)
}

/// A 福祉用具 service (types 17, 67) must name its equipment: TAISコード or 福祉用具届出コード.
fn equipment_code_missing(service_code: &str, tais: &str, notified: &str) -> bool {
    (service_code.starts_with("17") || service_code.starts_with("67"))
        && tais.is_empty()
        && notified.is_empty()
}

const EQUIPMENT_CODE_MISSING: &str = "福祉用具貸与では TAISコードか福祉用具届出コードが必要です";

/// A CSVバージョン of the standard and the サービス提供年月 from which it applies (layout item 1:
/// 「CSVバージョンが変更された場合、新しいバージョンの適用年月となるサービス提供年月から適用する」).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvVersion {
    /// The value of item 1.
    pub version: &'static str,
    /// The 版 of the standard, for messages.
    pub edition: &'static str,
    /// The first サービス提供年月 it applies to; `None` for the oldest listed (every earlier month).
    pub from: Option<&'static str>,
}

/// The versions, newest first. 4.0 (令和6年7月) was numbered 202504 — the service month it applies
/// from; 4.1 renamed it 202407 (「版数を4.0版発出月に変更」) without moving that month (issue 10,
/// item 11). Before it, 3・3.1・3.2 all carry 202208. Only 202407 is checked here: the layouts
/// are v4.1's.
pub(crate) const CSV_VERSIONS: &[CsvVersion] = &[
    CsvVersion { version: CSV_VERSION, edition: "v4.1", from: Some("202504") },
    CsvVersion { version: "202208", edition: "v3.2", from: None },
];

/// The version that applies to サービス提供年月 `month` (YYYYMM).
pub(crate) fn version_for(month: &str) -> &'static CsvVersion {
    CSV_VERSIONS
        .iter()
        .find(|v| v.from.is_none_or(|from| month >= from))
        .unwrap_or(&CSV_VERSIONS[CSV_VERSIONS.len() - 1])
}

/// The item holding a record's サービス提供年月, for the kinds that have one: 対象年月 (UPHOSOKU's
/// only when it belongs to 第6・7表, not `000000`), 削除対象年月 for the deletions. 第1〜3表, their
/// deletion and UPHOSOKU tied to them carry no service month.
fn service_month_item(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Uphosoku | Kind::Upplan | Kind::Upjsk | Kind::Upsikyu => Some("対象年月"),
        Kind::Dltplan | Kind::Dltjsk => Some("削除対象年月"),
        // 第1〜3表 and their deletion; any other kind without a service-month item.
        _ => None,
    }
}

/// Item 1 CSVバージョン of the file (one per file, checked in file.rs): the version of its
/// サービス提供年月 (the first record's 対象年月 / 削除対象年月), or, for files without one, the
/// version of these layouts (202407): a plan of 第1〜3表 names no service month, and 第3表 has a
/// layout only since v4.0.
fn csv_version(first: &Record<'_>, problems: &mut Vec<Problem>) {
    let Some(version) = first.get("CSVバージョン").filter(|v| !v.is_empty()) else { return };
    let month = service_month_item(first.kind)
        .and_then(|item| first.get(item))
        .filter(|m| crate::layout::is_year_month(m));
    let current = &CSV_VERSIONS[0];
    let Some(month) = month else {
        if version != current.version {
            problems.push(at(
                first,
                "CSVバージョン",
                format!("CSVバージョンは {}（標準仕様 {}）です", current.version, current.edition),
            ));
        }
        return;
    };
    let needed = version_for(month);
    if version != needed.version {
        let since = match needed.from {
            Some(from) => format!("、サービス提供年月 {from} から適用"),
            None => String::new(),
        };
        let mut message = format!(
            "サービス提供年月 {month} のファイルの CSVバージョンは {}（標準仕様 {}{since}）です",
            needed.version, needed.edition
        );
        if let Some(given) = CSV_VERSIONS.iter().find(|v| v.version == version)
            && let Some(from) = given.from
            && month < from
        {
            message.push_str(&format!(
                "。{}（{}）はサービス提供年月 {from} から適用されます",
                given.version, given.edition
            ));
        }
        problems.push(at(first, "CSVバージョン", message));
    } else if needed.version != current.version {
        problems.push(at(
            first,
            "CSVバージョン",
            format!(
                "CSVバージョン {}（標準仕様 {}）のファイルはこの確認の対象外です（{} の {} だけを確認します）",
                needed.version, needed.edition, current.edition, current.version
            ),
        ));
    }
}

pub(crate) fn check(file: &CareplanFile, problems: &mut Vec<Problem>) {
    let records: Vec<Record<'_>> = file.records().filter(complete).collect();
    if let Some(first) = records.first() {
        csv_version(first, problems);
    }
    match file.kind {
        Kind::Uphosoku => {
            for record in &records {
                limit_slots(record, problems);
            }
        }
        Kind::Up2kyo => {
            for record in &records {
                for name in ["課題ＮＯ", "援助目標ＮＯ", "援助内容ＮＯ"] {
                    if record
                        .get(name)
                        .is_some_and(|v| v.parse::<u32>().is_ok_and(|n| !(1..=99).contains(&n)))
                    {
                        problems.push(at(record, name, "番号は 1 から 99 です"));
                    }
                }
            }
        }
        Kind::Upplan | Kind::Upjsk => {
            let columns = ProvisionColumns::of(file.kind);
            for record in &records {
                provision_row(record, &columns, problems);
                detail_code(record, problems);
            }
        }
        Kind::Upsikyu => {
            summary_rows(&records, problems);
            for record in &records {
                summary_fixed_items(record, problems);
            }
        }
        Kind::Dltjsk => {
            for record in &records {
                service_of_the_exchange(
                    record,
                    record.get("サービス種類コード").unwrap_or_default(),
                    problems,
                );
            }
        }
        _ => {}
    }
    crate::rules_yobo::check(file, &records, problems);
}

/// UPHOSOKU items 20–55: nine slots of サービス種類別限度額管理, four items each, from item 20.
const LIMIT_SLOTS: usize = 9;
const FIRST_SLOT_ITEM: usize = 20;

/// 短期入所療養介護 types a slot does not take (layout items 20–55: 「短期入所療養介護の場合は22:短期入所
/// 療養介護（介護老人保健施設）を設定する」): 23 (介護療養型医療施設等) and 2A (介護医療院) are set as 22.
const SHORT_STAY_AS_22: &[&str] = &["23", "2A"];

/// UPHOSOKU slots 1–9 (items 20–55): 「サービス種類別限度額管理が必要な場合は１枠から順番に設定する」 —
/// a slot with any of its four items given must not follow an empty one; 短期入所療養介護 is given
/// as 22.
fn limit_slots(record: &Record<'_>, problems: &mut Vec<Problem>) {
    let items = record.kind.items();
    let value = |no: usize| record.row.fields.get(no - 1).map_or("", |f| f.value.as_str());
    let mut first_empty: Option<usize> = None;
    for slot in 0..LIMIT_SLOTS {
        let base = FIRST_SLOT_ITEM + 4 * slot;
        let filled = (base..base + 4).any(|no| !value(no).is_empty());
        let Some(type_item) = items.get(base - 1) else { return };
        if !filled {
            first_empty.get_or_insert(slot + 1);
            continue;
        }
        if let Some(empty) = first_empty.take() {
            problems.push(Problem::item(
                record.row.line,
                type_item,
                format!(
                    "サービス種類別限度額管理は１枠から順番に設定します（{}枠が空です）",
                    full_width_digit(empty)
                ),
            ));
        }
        let code = value(base);
        if SHORT_STAY_AS_22.contains(&code) {
            problems.push(Problem::item(
                record.row.line,
                type_item,
                format!(
                    "短期入所療養介護は「22:短期入所療養介護（介護老人保健施設）」として設定します（{code} は使いません）"
                ),
            ));
        }
    }
}

/// A digit 1–9 as the layout writes slot numbers (１, ２ …).
fn full_width_digit(n: usize) -> char {
    u32::try_from(n).ok().and_then(|n| char::from_u32(u32::from('０') + n)).unwrap_or('?')
}

/// Where the items the 第6表 rules read sit in a record (found once per file, not per row).
struct ProvisionColumns {
    month: usize,
    day: usize,
    bits: usize,
    service: usize,
    tais: usize,
    notified: usize,
}

impl ProvisionColumns {
    fn of(kind: Kind) -> Self {
        let at = |name| kind.item(name).map_or(usize::MAX, |i| usize::from(i.no) - 1);
        ProvisionColumns {
            month: at("対象年月"),
            day: at("サービス利用日"),
            bits: at("日割対象日"),
            service: at("サービスコード"),
            tais: at("TAISコード"),
            notified: at("福祉用具届出コード"),
        }
    }
}

/// One row of 第6表 (予定 or 実績).
fn provision_row(record: &Record<'_>, at_column: &ProvisionColumns, problems: &mut Vec<Problem>) {
    let value = |column: usize| record.row.fields.get(column).map_or("", |f| f.value.as_str());
    let month = value(at_column.month);
    let day = value(at_column.day);
    if day.len() == 8 && month.len() == 6 && !day.starts_with(month) {
        problems.push(at(record, "サービス利用日", format!("対象年月（{month}）の日付ではありません")));
    }
    let bits = value(at_column.bits);
    if !bits.is_empty()
        && let Some(days) = days_in_month(month)
        && bits.len() == 31
        && bits.get(days..).is_some_and(|rest| rest.contains('1'))
    {
        problems.push(at(
            record,
            "日割対象日",
            format!("{days}日より後の日に 1 が立っています（{month}は{days}日まで）"),
        ));
    }
    if equipment_code_missing(value(at_column.service), value(at_column.tais), value(at_column.notified)) {
        problems.push(at(record, "TAISコード", EQUIPMENT_CODE_MISSING));
    }
    let code = value(at_column.service);
    if matches!(summary_row(code), SummaryRow::Subtotal(_) | SummaryRow::Total) {
        problems.push(at(
            record,
            "サービスコード",
            format!(
                "{code} は第7表の種類別小計・全合計のコード（xxAAAA・xxEEEE・xxZZZZ・999999）です。第6表では使えません"
            ),
        ));
    } else {
        service_of_the_exchange(record, code, problems);
    }
}

/// A サービスコード (or DLTJSK's サービス種類コード) whose type is not a target of the exchange
/// (仕様 1.3・1.4; 2.6 「連携対象外のサービス種類が含まれる場合は、そのサービスのレコードは生成しない」).
/// Only a well-formed code is looked at (a malformed one is reported by its format).
fn service_of_the_exchange(record: &Record<'_>, code: &str, problems: &mut Vec<Problem>) {
    let (item, len) = if record.kind == Kind::Dltjsk {
        ("サービス種類コード", 2)
    } else {
        ("サービスコード", 6)
    };
    let well_formed = code.len() == len && code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if !well_formed {
        return;
    }
    if let Some(message) = crate::layout::not_a_service_of_the_exchange(code.get(..2).unwrap_or_default()) {
        problems.push(at(record, item, message));
    }
}

/// The サービス種類コード of a file name's sender and receiver: a type the standard lists as a
/// target (the service office's side: the receiver of what the care manager sends, the sender
/// of UPJSK and DLTJSK) or a care-management type (居宅介護支援 43, 介護予防支援 46: the care
/// manager's side, and either side where a 居宅介護支援事業所 works for a 地域包括支援センター, 仕様 3.1).
pub(crate) fn check_name_types(name: &FileName) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (side, office) in [("送信元", &name.sender), ("送信先", &name.receiver)] {
        let code = office.service_type.as_str();
        let message = match crate::layout::service_type(code) {
            Some((_, Exchange::Target | Exchange::CareManagement)) => continue,
            Some((label, Exchange::Excluded)) => {
                format!(
                    "ファイル名の{side}のサービス種類コード {code}（{label}）は連携対象外です（標準仕様 1.3・1.4）"
                )
            }
            None => format!(
                "ファイル名の{side}のサービス種類コード {code} は標準仕様 1.3・1.4 の連携対象のサービス種類にありません"
            ),
        };
        problems.push(Problem::file(message));
    }
    problems
}

/// 第6表 item 19 明細判別コード (layout): 「「17:福祉用具貸与」で、同一サービスコード、同一単位数の場合で
/// 明細が異なる場合は、1 からの連番を記載（1,2,3,・・・）」「「17:福祉用具貸与」以外の場合は「Null（空）」
/// とする」.
fn detail_code(record: &Record<'_>, problems: &mut Vec<Problem>) {
    let value = record.get("明細判別コード").unwrap_or_default();
    if value.is_empty() {
        return;
    }
    if !record.get("サービスコード").unwrap_or_default().starts_with("17") {
        problems.push(at(record, "明細判別コード", "「17:福祉用具貸与」以外のサービスでは空にします"));
    } else if value.bytes().all(|b| b == b'0') {
        problems.push(at(record, "明細判別コード", "1 からの連番です（0 は使えません）"));
    }
}

/// 第7表 items whose value the layout fixes: 13 単位数 「種類別小計及び全合計の場合は0 固定」,
/// 34 事業所コード 「9999999999を固定でセット」 (see layout.rs for why 34), 37 識別子 「※使用しない」.
fn summary_fixed_items(record: &Record<'_>, problems: &mut Vec<Problem>) {
    let code = record.get("サービスコード").unwrap_or_default();
    let units = record.get("単位数").unwrap_or_default();
    if summary_row(code) != SummaryRow::Service
        && !units.is_empty()
        && !units.trim_start_matches('-').bytes().all(|b| b == b'0')
    {
        problems.push(at(record, "単位数", "種類別小計・全合計の行の単位数は 0 固定です"));
    }
    let office = record.get("事業所コード").unwrap_or_default();
    if !office.is_empty() && office != "9999999999" {
        problems.push(at(record, "事業所コード", "事業所コード（項目34）は 9999999999 固定です"));
    }
    if !record.get("識別子").unwrap_or_default().is_empty() {
        problems.push(at(record, "識別子", "識別子は使用しない項目です。空にしてください"));
    }
}

/// What a 第7表 row is, from its サービスコード.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SummaryRow {
    Service,
    /// 区分支給対象の種類別小計 (`AAAA`), 対象外 (`EEEE`), 30日超過分 (`ZZZZ`).
    Subtotal(char),
    Total,
}

fn summary_row(code: &str) -> SummaryRow {
    match code.get(2..) {
        _ if code == "999999" => SummaryRow::Total,
        Some("AAAA") => SummaryRow::Subtotal('A'),
        Some("EEEE") => SummaryRow::Subtotal('E'),
        Some("ZZZZ") => SummaryRow::Subtotal('Z'),
        _ => SummaryRow::Service,
    }
}

/// The rows of one person of a 第7表 (仕様 2.6: a file may carry several people).
#[derive(Default)]
struct PersonRows<'a> {
    /// The 全合計 rows seen so far, and the person's last row.
    totals: usize,
    last: Option<Record<'a>>,
    /// Per office and service type: rows inside the 区分支給限度, the first one's record, and
    /// whether the `AAAA` subtotal is there.
    types: BTreeMap<(String, String), (usize, Option<Record<'a>>, bool)>,
}

/// 第7表: per person (保険者番号 + 被保険者番号), one total row (サービスコード 999999, 事業所コード
/// 9999999999) and, for a service type with several rows inside the 区分支給限度 (with a
/// 給付管理単位数), its 区分支給対象 subtotal `AAAA` (item 9: 「サービスコードが複数行の場合は必須」;
/// `EEEE` and `ZZZZ` are 「任意出力」 and do not stand in for it); subtotal and total rows carry no
/// discount; 福祉用具 rows carry a code.
fn summary_rows<'a>(records: &[Record<'a>], problems: &mut Vec<Problem>) {
    let mut people: BTreeMap<(String, String), PersonRows<'a>> = BTreeMap::new();
    for record in records {
        let person = (
            record.get("保険者番号").unwrap_or_default().to_string(),
            record.get("被保険者番号").unwrap_or_default().to_string(),
        );
        let rows = people.entry(person).or_default();
        rows.last = Some(*record);
        let code = record.get("サービスコード").unwrap_or_default();
        let office = record.get("サービス事業所コード").unwrap_or_default().to_string();
        let kind = code.get(..2).unwrap_or_default().to_string();
        let row_kind = summary_row(code);
        if row_kind != SummaryRow::Total {
            service_of_the_exchange(record, code, problems);
        }
        match row_kind {
            SummaryRow::Total => {
                rows.totals += 1;
                if rows.totals > 1 {
                    problems.push(Problem::line(
                        record.row.line,
                        format!(
                            "全合計の行（サービスコード 999999）は1人に1行だけです（被保険者番号 {} の{}行目）",
                            record.get("被保険者番号").unwrap_or_default(),
                            rows.totals
                        ),
                    ));
                }
                if office != "9999999999" {
                    problems.push(at(
                        record,
                        "サービス事業所コード",
                        "全合計の行の事業所コードは 9999999999 です",
                    ));
                }
            }
            // Only AAAA stands for the 区分支給対象 rows: EEEE and ZZZZ are 「任意出力」.
            SummaryRow::Subtotal(kind_of) => {
                if kind_of == 'A' {
                    rows.types.entry((office, kind)).or_default().2 = true;
                }
            }
            SummaryRow::Service => {
                // A row inside the 区分支給限度 carries its 給付管理単位数 (item 18 is 「区分支給限度外の
                // サービスの場合はNull（空）固定」).
                if !record.get("給付管理単位数").unwrap_or_default().is_empty() {
                    let entry = rows.types.entry((office, kind)).or_default();
                    entry.0 += 1;
                    entry.1.get_or_insert(*record);
                }
                if equipment_code_missing(
                    code,
                    record.get("TAISコード").unwrap_or_default(),
                    record.get("福祉用具届出コード").unwrap_or_default(),
                ) {
                    problems.push(at(record, "TAISコード", EQUIPMENT_CODE_MISSING));
                }
            }
        }
        if row_kind != SummaryRow::Service {
            for name in ["割引後率", "割引後単位数"] {
                if !record.get(name).unwrap_or_default().is_empty() {
                    problems.push(at(record, name, "小計・合計の行では空にします"));
                }
            }
        }
    }
    for ((_, person), rows) in people {
        if rows.totals == 0
            && let Some(last) = rows.last
        {
            problems.push(Problem::line(
                last.row.line,
                format!("被保険者番号 {person} の全合計の行（サービスコード 999999）がありません"),
            ));
        }
        for ((_, kind), (count, first, has_subtotal)) in rows.types {
            if count > 1
                && !has_subtotal
                && let Some(first) = first
            {
                problems.push(at(
                    &first,
                    "サービスコード",
                    format!(
                        "サービス種類 {kind} は区分支給限度内の行（給付管理単位数のある行）が複数あるので、区分支給対象の種類別小計の行（{kind}AAAA）が必要です（{kind}EEEE・{kind}ZZZZ は任意出力で、代わりになりません）"
                    ),
                ));
            }
        }
    }
}

/// The months inside a file must be the month its name carries.
pub(crate) fn check_name(file: &CareplanFile, name: &FileName, limit: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(month) = name.month.as_deref() else { return crate::rules_yobo::check_name(file, name, limit) };
    for record in file.records().filter(complete) {
        if problems.len() >= limit {
            break;
        }
        match file.kind {
            Kind::Upplan | Kind::Upjsk | Kind::Upsikyu | Kind::Dltplan | Kind::Dltjsk => {
                let item = if matches!(file.kind, Kind::Dltplan | Kind::Dltjsk) {
                    "削除対象年月"
                } else {
                    "対象年月"
                };
                if record.get(item) != Some(month) {
                    problems.push(at(&record, item, format!("ファイル名の年月（{month}）と違います")));
                }
            }
            Kind::Uphosoku => {
                let plan_date = record.get("居宅サービス計画作成（変更）日").unwrap_or_default();
                if record.get("対象年月") != Some(month) {
                    problems.push(at(
                        &record,
                        "対象年月",
                        format!("ファイル名の提供年月（{month}）と違います"),
                    ));
                }
                if month == "000000" && plan_date == "00000000" {
                    problems.push(at(
                        &record,
                        "居宅サービス計画作成（変更）日",
                        "第1・2表に紐づく補足情報（提供年月 000000）には計画作成（変更）日が必要です",
                    ));
                } else if month != "000000" && plan_date != "00000000" {
                    problems.push(at(
                        &record,
                        "居宅サービス計画作成（変更）日",
                        "第6・7表に紐づく補足情報では 00000000 とします",
                    ));
                }
            }
            _ => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_of_a_service_month() {
        assert_eq!(version_for("202504").version, "202407");
        assert_eq!(version_for("202612").version, "202407");
        assert_eq!(version_for("202503").version, "202208");
        assert_eq!(version_for("201901").version, "202208");
        assert_eq!(CSV_VERSIONS[0].version, CSV_VERSION);
        // Newest first, and only the oldest open-ended.
        assert!(CSV_VERSIONS[..CSV_VERSIONS.len() - 1].iter().all(|v| v.from.is_some()));
        assert!(CSV_VERSIONS.last().is_some_and(|v| v.from.is_none()));
    }
}

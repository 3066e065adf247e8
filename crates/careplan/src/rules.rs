//! Rules that span items or rows (layout notes and 仕様 2.3): the CSVバージョン of v4.1, months
//! that must agree with the file name, 日割対象日 within the month, 福祉用具 codes, and the
//! subtotal and total rows of 第7表 (per person).

use std::collections::BTreeMap;

use crate::file::{CSV_VERSION, CareplanFile, Record};
use crate::layout::Kind;
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

pub(crate) fn check(file: &CareplanFile, problems: &mut Vec<Problem>) {
    let records: Vec<Record<'_>> = file.records().filter(complete).collect();
    if let Some(first) = records.first()
        && first.get("CSVバージョン").is_some_and(|v| !v.is_empty() && v != CSV_VERSION)
    {
        problems.push(at(
            first,
            "CSVバージョン",
            format!("CSVバージョンは {CSV_VERSION}（標準仕様 v4.1）です"),
        ));
    }
    match file.kind {
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
        _ => {}
    }
    crate::rules_yobo::check(file, &records, problems);
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
    /// Per office and service type: ordinary rows, and the first one's record; subtotals present.
    types: BTreeMap<(String, String), (usize, Option<Record<'a>>, bool)>,
}

/// 第7表: per person (保険者番号 + 被保険者番号), one total row (サービスコード 999999, 事業所コード
/// 9999999999) and, for a service type with several rows, its subtotal; subtotal and total rows
/// carry no discount; 福祉用具 rows carry a code.
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
            SummaryRow::Subtotal(kind_of) => {
                if kind_of != 'Z' {
                    rows.types.entry((office, kind)).or_default().2 = true;
                }
            }
            SummaryRow::Service => {
                let entry = rows.types.entry((office, kind)).or_default();
                entry.0 += 1;
                entry.1.get_or_insert(*record);
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
                    format!("サービス種類 {kind} は複数行あるので、種類別小計の行（{kind}AAAA）が必要です"),
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

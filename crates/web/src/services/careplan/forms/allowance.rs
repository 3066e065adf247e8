//! 第7表 サービス利用票別表 with its rows as on paper.

use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::Kind;

use super::*;

/// One row of 第7表 サービス利用票別表 (区分支給限度管理・利用者負担計算), as on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceRow {
    /// 「」 for a service, 「種類別小計」「区分支給対象外小計」「30日超過分小計」 or 「合計」.
    pub subtotal: &'static str,
    pub office: String,
    pub office_no: String,
    /// サービスコード (with 用具名称 of a rental); blank on a subtotal or the total.
    pub service: String,
    /// The amounts, in [`ALLOWANCE_COLUMNS`] order, without leading zeros.
    pub amounts: Vec<String>,
}

/// 第7表 for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceSheet {
    pub insurer_no: String,
    pub insured_no: String,
    pub month: String,
    pub created: String,
    pub rows: Vec<AllowanceRow>,
}

/// The amount columns of 第7表, as headed on paper, and the item each one shows.
pub const ALLOWANCE_COLUMNS: [(&str, &str); 18] = [
    ("単位数", "単位数"),
    ("割引後 率(%)", "割引後率"),
    ("割引後 単位数", "割引後単位数"),
    ("回数", "回数／日数"),
    ("サービス単位／金額", "サービス単位金額"),
    ("給付管理単位数", "給付管理単位数"),
    ("種類支給限度基準を超える単位数", "種類支給限度基準超単位数"),
    ("種類支給限度基準内単位数", "種類支給限度基準内単位数"),
    ("区分支給限度基準を超える単位数", "区分支給限度基準超単位数"),
    ("区分支給限度基準内単位数", "区分支給限度基準内単位数"),
    ("単位数単価", "単位数単価"),
    ("費用総額（保険／事業対象分）", "費用総額保険／事業対象分"),
    ("給付率(%)", "給付率"),
    ("保険／事業費請求額", "保険／事業費請求額"),
    ("定額利用者負担単価金額", "定額利用者負担単価金額"),
    ("利用者負担（保険／事業対象分）", "利用者負担保険／事業対象分"),
    ("利用者負担（全額負担分）", "利用者負担（全額負担分）"),
    ("前月までの利用日数", "前月までの利用日数"),
];

/// What a 第7表 サービスコード says about its row: 「CD+AAAA」 is a kind's subtotal, 「999999」
/// the total (the standard's 全合計).
fn subtotal_of(code: &str) -> &'static str {
    match code {
        "999999" => "合計",
        c if c.len() == 6 && c.ends_with("AAAA") => "種類別小計",
        c if c.len() == 6 && c.ends_with("EEEE") => "区分支給対象外小計",
        c if c.len() == 6 && c.ends_with("ZZZZ") => "30日超過分小計",
        _ => "",
    }
}

/// 第7表 (UPSIKYU) as one sheet per person, rows in the file's order. Other kinds give nothing.
pub fn allowance_sheets(file: &CareplanFile) -> Vec<AllowanceSheet> {
    if file.kind != Kind::Upsikyu {
        return Vec::new();
    }
    let get = |r: &Record<'_>, name: &str| r.get(name).unwrap_or_default().to_string();
    let mut sheets: Vec<AllowanceSheet> = Vec::new();
    for record in file.records() {
        let (insurer_no, insured_no) = (get(&record, "保険者番号"), get(&record, "被保険者番号"));
        let index =
            match sheets.iter().position(|s| (&s.insurer_no, &s.insured_no) == (&insurer_no, &insured_no)) {
                Some(i) => i,
                None => {
                    sheets.push(AllowanceSheet {
                        month: wareki_month(&get(&record, "対象年月")),
                        created: wareki_date(&get(&record, "作成年月日")),
                        insurer_no,
                        insured_no,
                        rows: Vec::new(),
                    });
                    sheets.len() - 1
                }
            };
        let code = get(&record, "サービスコード");
        let subtotal = subtotal_of(&code);
        let office_no = get(&record, "サービス事業所コード");
        let equipment = get(&record, "用具名称（機種名）");
        let service = match (subtotal, equipment.is_empty()) {
            ("", true) => code,
            ("", false) => format!("{code} {equipment}"),
            _ => String::new(),
        };
        sheets[index].rows.push(AllowanceRow {
            subtotal,
            office: get(&record, "サービス事業所名"),
            // The total's office number is the filler 9999999999.
            office_no: if subtotal == "合計" { String::new() } else { office_no },
            service,
            amounts: ALLOWANCE_COLUMNS
                .iter()
                .map(|(_, item)| match *item {
                    "単位数単価" => get(&record, item),
                    _ => amount(&get(&record, item)),
                })
                .collect(),
        });
    }
    sheets
}

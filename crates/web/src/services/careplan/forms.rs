//! The care-plan files as the paper forms care managers know, decoded from the items of the
//! national standard (v4.1): pure functions from a parsed file to the rows and cells of its form,
//! no I/O. The templates only lay the cells out.
//!
//! 第6表 サービス利用票 (UPPLAN, and UPJSK with the same layout for 実績) is a month calendar:
//! one row per service (office, service code, 用具, times), one column per day of the 対象年月,
//! the number of times (サービス回数) in each day's cell; the days a 日割 service may be billed
//! (日割対象日, 31 characters of '0'/'1') are marked. Times `HHMM` are shown as `HH:MM`;
//! `9999` is the standard's 「時間表示の無いサービス」 and is left blank, as on paper.

use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::Kind;
use renraku_domain::time_jp::format_wareki;
use time::{Date, Month, Weekday};

/// One day column of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayHead {
    pub day: u8,
    /// 「月」…「日」.
    pub weekday: &'static str,
    /// Saturday or Sunday, shaded as on the printed form.
    pub weekend: bool,
}

/// One day's cell of a service row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayCell {
    /// サービス回数 on that day; `None` where no service is planned.
    pub count: Option<u32>,
    /// The day is one of the 日割対象日 of this service.
    pub prorated: bool,
}

impl DayCell {
    /// The cell's text: the count, or nothing.
    pub fn text(&self) -> String {
        self.count.map(|c| c.to_string()).unwrap_or_default()
    }
}

/// One row of 第6表: a service and its days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// 提供時間帯: 「10:00〜11:00」, blank for a service without times (9999).
    pub time: String,
    pub service_code: String,
    /// 用具名称（機種名） of a 福祉用具貸与, else empty.
    pub equipment: String,
    /// サービス事業所名 (or the office number where the name is empty).
    pub office: String,
    /// 単位数 without leading zeros (as given on the row's first record).
    pub units: String,
    pub cells: Vec<DayCell>,
    /// The month's total of サービス回数.
    pub total: u32,
    /// The service has 日割対象日.
    pub prorated: bool,
}

/// 第6表 for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSheet {
    pub insurer_no: String,
    pub insured_no: String,
    /// 対象年月 in 和暦: 「令和8年12月分」 (the month as given where it is not a date).
    pub month: String,
    /// 作成年月日 in 和暦, blank where empty.
    pub created: String,
    /// 居宅介護支援事業者 and 担当者 as the file names them.
    pub planner_office: String,
    pub planner: String,
    pub days: Vec<DayHead>,
    pub rows: Vec<UsageRow>,
}

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// `YYYYMM` as the first day of that month.
fn month_start(value: &str) -> Option<Date> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = value[..4].parse().ok()?;
    let month: u8 = value[4..].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, 1).ok()
}

/// `YYYYMMDD` as a date.
pub fn date(value: &str) -> Option<Date> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first = month_start(&value[..6])?;
    let day: u8 = value[6..].parse().ok()?;
    Date::from_calendar_date(first.year(), first.month(), day).ok()
}

/// A date item in 和暦 (「令和8年11月20日」), blank where empty or a filler (`00000000`).
pub fn wareki_date(value: &str) -> String {
    date(value).map(format_wareki).unwrap_or_default()
}

/// A 対象年月 in 和暦: 「令和8年12月分」.
pub fn wareki_month(value: &str) -> String {
    match month_start(value) {
        Some(first) => {
            let full = format_wareki(first);
            // 「令和8年12月1日」 without the day.
            let month = full.strip_suffix("1日").unwrap_or(&full);
            format!("{month}分")
        }
        None => value.to_string(),
    }
}

/// `HHMM` as 「10:00」; `9999` (no times for this service) and anything else unreadable blank.
pub fn time_label(value: &str) -> String {
    if value.len() != 4 || value == "9999" || !value.bytes().all(|b| b.is_ascii_digit()) {
        return String::new();
    }
    let hour: u8 = value[..2].parse().unwrap_or(99);
    let minute: u8 = value[2..].parse().unwrap_or(99);
    if hour > 24 || minute > 59 {
        return String::new();
    }
    format!("{hour:02}:{minute:02}")
}

/// An amount without its leading zeros: `000821` → `821`, `000000` → `0`, empty stays empty.
pub fn amount(value: &str) -> String {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return value.to_string();
    }
    let trimmed = value.trim_start_matches('0');
    if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() }
}

/// The days of a month as column heads.
fn days_of(first: Date) -> Vec<DayHead> {
    let mut days = Vec::new();
    let mut day = Some(first);
    while let Some(d) = day.filter(|d| d.month() == first.month()) {
        let weekday = d.weekday();
        days.push(DayHead {
            day: d.day(),
            weekday: WEEKDAYS[usize::from(weekday.number_days_from_monday())],
            weekend: matches!(weekday, Weekday::Saturday | Weekday::Sunday),
        });
        day = d.next_day();
    }
    days
}

/// 第6表 (or its 実績) as one sheet per person, people and services in the file's order.
/// Other kinds give nothing.
pub fn usage_sheets(file: &CareplanFile) -> Vec<UsageSheet> {
    if !matches!(file.kind, Kind::Upplan | Kind::Upjsk) {
        return Vec::new();
    }
    let get = |r: &Record<'_>, name: &str| r.get(name).unwrap_or_default().to_string();
    let mut sheets: Vec<UsageSheet> = Vec::new();
    // The identity of a row on paper: office, code, 用具, times (and 明細判別コード, which tells
    // apart rentals of the same code and units).
    let mut keys: Vec<Vec<Vec<String>>> = Vec::new();
    for record in file.records() {
        let (insurer_no, insured_no) = (get(&record, "保険者番号"), get(&record, "被保険者番号"));
        let month = get(&record, "対象年月");
        let index =
            match sheets.iter().position(|s| (&s.insurer_no, &s.insured_no) == (&insurer_no, &insured_no)) {
                Some(i) => i,
                None => {
                    let days = month_start(&month).map(days_of).unwrap_or_default();
                    sheets.push(UsageSheet {
                        month: wareki_month(&month),
                        created: wareki_date(&get(&record, "作成年月日")),
                        planner_office: get(&record, "プラン担当業者コード"),
                        planner: get(&record, "プラン担当者名"),
                        insurer_no,
                        insured_no,
                        days,
                        rows: Vec::new(),
                    });
                    keys.push(Vec::new());
                    sheets.len() - 1
                }
            };
        let (start, end) = (get(&record, "サービス開始時刻"), get(&record, "サービス終了時刻"));
        let key = [
            "サービス事業者コード",
            "サテライト枝番",
            "サービスコード",
            "TAISコード",
            "福祉用具届出コード",
            "用具名称（機種名）",
            "明細判別コード",
        ]
        .iter()
        .map(|n| get(&record, n))
        .chain([start.clone(), end.clone()])
        .collect::<Vec<_>>();
        let sheet = &mut sheets[index];
        let row_index = match keys[index].iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                let time = match (time_label(&start), time_label(&end)) {
                    (s, e) if s.is_empty() && e.is_empty() => String::new(),
                    (s, e) => format!("{s}〜{e}"),
                };
                let office = match get(&record, "サービス事業所名") {
                    name if name.is_empty() => get(&record, "サービス事業者コード"),
                    name => name,
                };
                sheet.rows.push(UsageRow {
                    time,
                    service_code: get(&record, "サービスコード"),
                    equipment: get(&record, "用具名称（機種名）"),
                    office,
                    units: amount(&get(&record, "単位数")),
                    cells: vec![DayCell::default(); sheet.days.len()],
                    total: 0,
                    prorated: false,
                });
                keys[index].push(key);
                sheet.rows.len() - 1
            }
        };
        let row = &mut sheet.rows[row_index];
        // 日割対象日: one character per day of the month, '1' for a day that may be billed.
        for (i, bit) in get(&record, "日割対象日").bytes().enumerate() {
            if let (b'1', Some(cell)) = (bit, row.cells.get_mut(i)) {
                cell.prorated = true;
                row.prorated = true;
            }
        }
        let count: u32 = get(&record, "サービス回数").parse().unwrap_or(0);
        let day = date(&get(&record, "サービス利用日"));
        let cell = day
            .filter(|d| month_start(&month).is_some_and(|m| (m.year(), m.month()) == (d.year(), d.month())))
            .and_then(|d| row.cells.get_mut(usize::from(d.day()) - 1));
        if let Some(cell) = cell {
            cell.count = Some(cell.count.unwrap_or(0) + count);
            row.total += count;
        }
    }
    sheets
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(records: &[[&str; 25]]) -> CareplanFile {
        CareplanFile::build(
            Kind::Upplan,
            records.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn record<'a>(
        insured: &'a str,
        day: &'a str,
        bits: &'a str,
        start: &'a str,
        end: &'a str,
        count: &'a str,
        code: &'a str,
        equipment: &'a str,
    ) -> [&'a str; 25] {
        [
            "202407",
            "122203",
            insured,
            "20261120",
            "202612",
            "1234567890",
            "介護 次郎",
            "000821",
            "",
            day,
            bits,
            start,
            end,
            count,
            code,
            "",
            "",
            equipment,
            "",
            "2234567890",
            "㈱さくら訪問看護ステーション",
            "",
            "0",
            "1234567890",
            "",
        ]
    }

    #[test]
    fn a_month_has_one_column_per_day_with_its_weekday() {
        let file = plan(&[record("0123456789", "20261201", "", "1000", "1100", "01", "131111", "")]);
        let sheet = &usage_sheets(&file)[0];
        assert_eq!(sheet.days.len(), 31);
        // 2026-12-01 is a Tuesday; the 5th a Saturday.
        assert_eq!(sheet.days[0], DayHead { day: 1, weekday: "火", weekend: false });
        assert_eq!(sheet.days[4], DayHead { day: 5, weekday: "土", weekend: true });
        assert_eq!(sheet.month, "令和8年12月分");
        assert_eq!(sheet.created, "令和8年11月20日");
        let feb = plan(&[{
            let mut r = record("0123456789", "20270201", "", "1000", "1100", "01", "131111", "");
            r[4] = "202702";
            r
        }]);
        assert_eq!(usage_sheets(&feb)[0].days.len(), 28);
    }

    #[test]
    fn the_same_service_on_several_days_is_one_row_with_counts_per_day() {
        let file = plan(&[
            record("0123456789", "20261201", "", "1000", "1100", "01", "131111", ""),
            record(
                "0123456789",
                "20261204",
                "1111100000000000000000000000000",
                "1000",
                "1100",
                "01",
                "131111",
                "",
            ),
            record("0123456789", "20261204", "", "1000", "1100", "02", "131111", ""),
            record("0123456789", "20261201", "", "9999", "9999", "01", "171001", "歩行器①型"),
        ]);
        let sheets = usage_sheets(&file);
        assert_eq!(sheets.len(), 1);
        let rows = &sheets[0].rows;
        assert_eq!(rows.len(), 2);
        let visit = &rows[0];
        assert_eq!(visit.time, "10:00〜11:00");
        assert_eq!(visit.units, "821");
        let counts: Vec<String> = visit.cells.iter().map(DayCell::text).collect();
        assert_eq!(counts[0], "1");
        assert_eq!(counts[3], "3");
        assert!(counts.iter().enumerate().all(|(i, c)| [0, 3].contains(&i) || c.is_empty()));
        assert_eq!(visit.total, 4);
        // 日割対象日 1–5.
        assert!(visit.prorated);
        let marked: Vec<usize> =
            visit.cells.iter().enumerate().filter(|(_, c)| c.prorated).map(|(i, _)| i + 1).collect();
        assert_eq!(marked, [1, 2, 3, 4, 5]);
        let rental = &rows[1];
        assert_eq!(rental.time, "", "9999 is a service without times: blank as on paper");
        assert_eq!(rental.equipment, "歩行器①型");
        assert!(!rental.prorated);
        assert_eq!(rental.cells[0].count, Some(1));
    }

    #[test]
    fn each_person_has_their_own_sheet() {
        let file = plan(&[
            record("0123456789", "20261201", "", "1000", "1100", "01", "131111", ""),
            record("1111111111", "20261202", "", "1400", "1530", "01", "131111", ""),
        ]);
        let sheets = usage_sheets(&file);
        assert_eq!(
            sheets.iter().map(|s| s.insured_no.as_str()).collect::<Vec<_>>(),
            ["0123456789", "1111111111"]
        );
        assert_eq!(sheets[1].rows[0].time, "14:00〜15:30");
        assert_eq!(sheets[1].rows[0].cells[1].count, Some(1));
    }

    #[test]
    fn unreadable_values_give_blank_cells_not_a_panic() {
        let file = plan(&[record("0123456789", "20261299", "1x1", "25xx", "", "zz", "131111", "")]);
        let sheet = &usage_sheets(&file)[0];
        assert!(sheet.rows[0].cells.iter().all(|c| c.count.is_none()));
        assert_eq!(sheet.rows[0].time, "");
        assert!(sheet.rows[0].cells[0].prorated && !sheet.rows[0].cells[1].prorated);
        let mut bad_month = record("0123456789", "20261201", "", "1000", "1100", "01", "131111", "");
        bad_month[4] = "2026";
        let sheets = usage_sheets(&plan(&[bad_month]));
        assert!(sheets[0].days.is_empty() && sheets[0].rows[0].cells.is_empty());
        assert!(usage_sheets(&CareplanFile::build(Kind::Up1kyo, vec![])).is_empty());
    }

    #[test]
    fn the_allowance_table_has_services_subtotals_and_the_total_as_on_paper() {
        let row =
            |office: &str, no: &str, code: &str, equipment: &str, units: &str, times: &str, cost: &str| {
                let mut r = vec![String::new(); 37];
                for (i, v) in [
                    (0, "202407"),
                    (1, "122203"),
                    (2, "0123456789"),
                    (3, "20261120"),
                    (4, "202612"),
                    (5, office),
                    (6, no),
                    (8, code),
                    (11, equipment),
                    (12, units),
                    (15, times),
                    (22, "11.40"),
                    (23, cost),
                ] {
                    r[i] = v.to_string();
                }
                r
            };
        let file = CareplanFile::build(
            Kind::Upsikyu,
            vec![
                row("㈱さくら", "2234567890", "131111", "", "000821", "008", "074875"),
                row("㈱さくら", "2234567890", "13AAAA", "", "0", "008", ""),
                row("㈱さくら", "2234567890", "171001", "歩行器①型", "000100", "001", "001000"),
                row("", "9999999999", "999999", "", "0", "000", "075875"),
            ],
        );
        let sheets = allowance_sheets(&file);
        assert_eq!(sheets.len(), 1);
        assert_eq!(sheets[0].month, "令和8年12月分");
        let rows = &sheets[0].rows;
        assert_eq!(rows.iter().map(|r| r.subtotal).collect::<Vec<_>>(), ["", "種類別小計", "", "合計"]);
        assert_eq!(rows[0].service, "131111");
        assert_eq!(rows[2].service, "171001 歩行器①型");
        assert_eq!(rows[1].service, "");
        assert_eq!(rows[3].office_no, "", "the total's filler office number is not shown");
        assert_eq!(rows[0].amounts[0], "821");
        assert_eq!(rows[0].amounts[3], "8");
        assert_eq!(rows[0].amounts[10], "11.40", "単位数単価 as given");
        assert_eq!(rows[0].amounts[11], "74875");
        assert_eq!(rows[3].amounts[3], "0");
        assert!(allowance_sheets(&CareplanFile::build(Kind::Upplan, vec![])).is_empty());
    }

    #[test]
    fn amounts_dates_and_times_as_on_paper() {
        assert_eq!(amount("000821"), "821");
        assert_eq!(amount("000000"), "0");
        assert_eq!(amount(""), "");
        assert_eq!(wareki_date("00000000"), "");
        assert_eq!(wareki_date(""), "");
        assert_eq!(wareki_date("20190501"), "令和元年5月1日");
        assert_eq!(time_label("1000"), "10:00");
        assert_eq!(time_label("0930"), "09:30");
        assert_eq!(time_label("9999"), "");
        assert_eq!(wareki_month("202701"), "令和9年1月分");
    }
}

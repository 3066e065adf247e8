//! 第6表 サービス利用票 (and 実績) as a month calendar.

use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::Kind;
use time::{Date, Weekday};

use super::*;

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

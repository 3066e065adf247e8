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
use renraku_careplan::layout::{Format, Kind};
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

/// The ※1 and the service of one 援助内容 of 第2表.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLine {
    pub content: String,
    /// ※1 保険給付の対象: 「○」 where 保険対象区分 is Y.
    pub insured: &'static str,
    pub kind: String,
    /// ※2 the office that provides it.
    pub office: String,
    pub frequency: String,
    pub period: String,
}

/// The goal cells of 第2表: 長期目標・期間, 短期目標・期間.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalCells {
    pub long: String,
    pub long_period: String,
    pub short: String,
    pub short_period: String,
}

/// One line of 第2表 as printed: the need and the goals start a block spanning the lines of
/// their services (`Some((cells, rowspan))` on a block's first line, `None` after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsLine {
    pub need: Option<(String, usize)>,
    pub goal: Option<(GoalCells, usize)>,
    pub service: ServiceLine,
}

/// 第2表 for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsSheet {
    pub insurer_no: String,
    pub insured_no: String,
    /// 作成年月日 in 和暦.
    pub created: String,
    pub lines: Vec<NeedsLine>,
}

/// 第2表 (UP2KYO) grouped by need (課題ＮＯ) and goal (援助目標ＮＯ), as on paper: each need
/// and each goal written once, beside its services, in the file's order.
pub fn needs_sheets(file: &CareplanFile) -> Vec<NeedsSheet> {
    if file.kind != Kind::Up2kyo {
        return Vec::new();
    }
    let get = |r: &Record<'_>, name: &str| r.get(name).unwrap_or_default().to_string();
    // Per person: needs (number, text, goals (number, cells, services)).
    type Goals = Vec<(String, GoalCells, Vec<ServiceLine>)>;
    type Needs = Vec<(String, String, Goals)>;
    let mut people: Vec<(String, String, String, Needs)> = Vec::new();
    for record in file.records() {
        let (insurer_no, insured_no) = (get(&record, "保険者番号"), get(&record, "被保険者番号"));
        let person = match people.iter().position(|p| (&p.0, &p.1) == (&insurer_no, &insured_no)) {
            Some(i) => i,
            None => {
                people.push((
                    insurer_no,
                    insured_no,
                    wareki_date(&get(&record, "居宅計画書作成年月日")),
                    vec![],
                ));
                people.len() - 1
            }
        };
        let needs = &mut people[person].3;
        let need_no = get(&record, "課題ＮＯ");
        let need = match needs.iter().position(|n| n.0 == need_no) {
            Some(i) => i,
            None => {
                needs.push((need_no, String::new(), vec![]));
                needs.len() - 1
            }
        };
        let text = get(&record, "課題");
        if needs[need].1.is_empty() {
            needs[need].1 = text;
        }
        let goals = &mut needs[need].2;
        let goal_no = get(&record, "援助目標ＮＯ");
        let cells = GoalCells {
            long: get(&record, "長期目標"),
            long_period: get(&record, "長期期間"),
            short: get(&record, "短期目標"),
            short_period: get(&record, "短期期間"),
        };
        let goal = match goals.iter().position(|g| g.0 == goal_no) {
            Some(i) => i,
            None => {
                goals.push((goal_no, cells.clone(), vec![]));
                goals.len() - 1
            }
        };
        // A later line of the same goal may carry what the first left empty.
        let known = &mut goals[goal].1;
        for (have, new) in [
            (&mut known.long, cells.long),
            (&mut known.long_period, cells.long_period),
            (&mut known.short, cells.short),
            (&mut known.short_period, cells.short_period),
        ] {
            if have.is_empty() {
                *have = new;
            }
        }
        let office = match get(&record, "サービス事業所名") {
            name if name.is_empty() => get(&record, "サービス事業者コード"),
            name => name,
        };
        goals[goal].2.push(ServiceLine {
            content: get(&record, "サービス内容"),
            insured: if get(&record, "保険対象区分") == "Y" { "○" } else { "" },
            kind: get(&record, "サービス種別"),
            office,
            frequency: get(&record, "頻度"),
            period: get(&record, "実施期間"),
        });
    }
    people
        .into_iter()
        .map(|(insurer_no, insured_no, created, needs)| {
            let mut lines = Vec::new();
            for (_, need, goals) in needs {
                let need_rows = goals.iter().map(|g| g.2.len()).sum();
                let mut need = Some((need, need_rows));
                for (_, cells, services) in goals {
                    let mut goal = Some((cells, services.len()));
                    for service in services {
                        lines.push(NeedsLine { need: need.take(), goal: goal.take(), service });
                    }
                }
            }
            NeedsSheet { insurer_no, insured_no, created, lines }
        })
        .collect()
}

/// One time band of 第3表: what happens on each weekday, and the day's activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSlot {
    /// 「10:00〜11:00」.
    pub time: String,
    /// Monday to Sunday: the services in this band.
    pub days: Vec<Vec<String>>,
    /// 主な日常生活上の活動 in this band.
    pub activities: Vec<String>,
}

/// 第3表 for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSheet {
    pub insurer_no: String,
    pub insured_no: String,
    pub created: String,
    /// Time bands from the earliest start.
    pub slots: Vec<WeekSlot>,
    /// 週単位以外のサービス.
    pub other: Vec<String>,
}

/// The index of the time band from `start` to `end` in a 第3表 sheet, added where new.
fn slot(sheet: &mut WeekSheet, keys: &mut Vec<(String, String)>, start: String, end: String) -> usize {
    if let Some(i) = keys.iter().position(|k| (&k.0, &k.1) == (&start, &end)) {
        return i;
    }
    let time = format!("{}〜{}", time_label(&start), time_label(&end));
    sheet.slots.push(WeekSlot { time, days: vec![vec![]; 7], activities: vec![] });
    keys.push((start, end));
    keys.len() - 1
}

/// The weekday heads of 第3表.
pub const WEEK_HEADS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// 第3表 (UP3KYO) as a week grid: one line per time band, one column per weekday (曜日 1–7),
/// 主な日常生活上の活動 beside them, 週単位以外のサービス below.
pub fn week_sheets(file: &CareplanFile) -> Vec<WeekSheet> {
    if file.kind != Kind::Up3kyo {
        return Vec::new();
    }
    // The items are found by position: 開始時間・終了時間 appear twice in the layout (8–9 for
    // a service, 11–12 for an activity).
    let field =
        |r: &Record<'_>, no: usize| r.row.fields.get(no - 1).map(|f| f.value.to_string()).unwrap_or_default();
    let mut sheets: Vec<(WeekSheet, Vec<(String, String)>)> = Vec::new();
    for record in file.records() {
        let (insurer_no, insured_no) = (field(&record, 2), field(&record, 3));
        let index = match sheets
            .iter()
            .position(|s| (&s.0.insurer_no, &s.0.insured_no) == (&insurer_no, &insured_no))
        {
            Some(i) => i,
            None => {
                let created = wareki_date(&field(&record, 4));
                sheets.push((
                    WeekSheet { insurer_no, insured_no, created, slots: vec![], other: vec![] },
                    vec![],
                ));
                sheets.len() - 1
            }
        };
        let (sheet, keys) = &mut sheets[index];
        let service = field(&record, 6);
        let weekday: Option<usize> = field(&record, 7).parse().ok().filter(|d| (1..=7).contains(d));
        if let (false, Some(day)) = (service.is_empty(), weekday) {
            let i = slot(sheet, keys, field(&record, 8), field(&record, 9));
            sheet.slots[i].days[day - 1].push(service);
        }
        let activity = field(&record, 10);
        if !activity.is_empty() {
            let i = slot(sheet, keys, field(&record, 11), field(&record, 12));
            sheet.slots[i].activities.push(activity);
        }
        let other = field(&record, 13);
        if !other.is_empty() {
            sheet.other.push(other);
        }
    }
    sheets
        .into_iter()
        .map(|(mut sheet, keys)| {
            let mut slots: Vec<_> = keys.into_iter().zip(sheet.slots).collect();
            slots.sort_by(|a, b| a.0.cmp(&b.0));
            sheet.slots = slots.into_iter().map(|(_, s)| s).collect();
            sheet
        })
        .collect()
}

/// One labelled box of a form such as 第1表 or 利用者補足情報.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    /// Free text of several lines or a long sentence (意向, 方針…): a wide box.
    pub long: bool,
}

/// 第1表 居宅サービス計画書(1) or UPHOSOKU 利用者補足情報 for one person: its boxes in the
/// layout's order, and for UPHOSOKU the サービス種類別支給限度 slots in use (empty ２–９ hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSheet {
    pub insurer_no: String,
    pub insured_no: String,
    pub fields: Vec<Field>,
    /// サービス種類コード, 支給限度基準額, 合計単位数, 限度超単位数 of each slot in use.
    pub slots: Vec<[String; 4]>,
}

/// The slot columns of 利用者補足情報.
pub const SLOT_COLUMNS: [&str; 4] = ["サービス種類コード", "支給限度基準額", "合計単位数", "限度超単位数"];

/// A value as the paper shows it: dates in 和暦 (blank for a filler), codes by their meaning,
/// amounts without leading zeros.
pub fn paper_value(format: &Format, value: &str) -> String {
    match format {
        _ if value.is_empty() => String::new(),
        Format::Date | Format::DateOr(_) => match date(value) {
            Some(d) => format_wareki(d),
            None if value.bytes().all(|b| b == b'0') => String::new(),
            None => value.to_string(),
        },
        Format::YearMonth | Format::YearMonthOr(_) => match month_start(value) {
            Some(_) => wareki_month(value).trim_end_matches('分').to_string(),
            None if value.bytes().all(|b| b == b'0') => String::new(),
            None => value.to_string(),
        },
        Format::Code(codes) => match codes.iter().find(|(c, _)| *c == value) {
            Some((_, label)) => (*label).to_string(),
            None => value.to_string(),
        },
        Format::Number | Format::Integer => amount(value),
        Format::Time | Format::TimeOr9999 => time_label(value),
        _ => value.to_string(),
    }
}

/// Items shown once in the heading, or of no use to a reader.
const NOT_BOXES: [&str; 5] = ["CSVバージョン", "識別子", "保険者番号", "被保険者番号", "更新業者コード"];

/// 第1表 (UP1KYO) or 利用者補足情報 (UPHOSOKU) as labelled boxes, one sheet per record's person.
/// Other kinds give nothing.
pub fn profile_sheets(file: &CareplanFile) -> Vec<ProfileSheet> {
    if !matches!(file.kind, Kind::Up1kyo | Kind::Uphosoku) {
        return Vec::new();
    }
    const SLOT_DIGITS: [char; 9] = ['１', '２', '３', '４', '５', '６', '７', '８', '９'];
    let mut sheets = Vec::new();
    for record in file.records() {
        let mut sheet = ProfileSheet {
            insurer_no: record.get("保険者番号").unwrap_or_default().to_string(),
            insured_no: record.get("被保険者番号").unwrap_or_default().to_string(),
            fields: Vec::new(),
            slots: Vec::new(),
        };
        let mut slots: Vec<[String; 4]> = vec![Default::default(); 9];
        for (item, value) in record.items() {
            if NOT_BOXES.contains(&item.name) {
                continue;
            }
            let shown = paper_value(&item.format, value);
            if let Some(slot) =
                item.name.chars().next().and_then(|c| SLOT_DIGITS.iter().position(|d| *d == c))
            {
                if let Some(column) = SLOT_COLUMNS.iter().position(|c| item.name.ends_with(c)) {
                    slots[slot][column] = shown;
                }
                continue;
            }
            let long = shown.contains('\n') || shown.chars().count() > 30;
            sheet.fields.push(Field { label: item.name, value: shown, long });
        }
        sheet.slots = slots.into_iter().filter(|s| s.iter().any(|v| !v.is_empty())).collect();
        sheets.push(sheet);
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

    fn csv(kind: Kind, text: &str) -> CareplanFile {
        let (encoded, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        CareplanFile::parse(kind, &encoded).unwrap()
    }

    #[test]
    fn needs_are_grouped_with_their_goals_and_services() {
        let file = csv(
            Kind::Up2kyo,
            "202407,122203,0123456789,20261115,20261115,1,\"入浴したい\",1,\"安全に入浴できる\",\"見守りで入浴\",\"11月～4月\",\"11月～1月\",1,\"入浴の見守り\",Y,\"訪問看護\",2234567890,\"㈱さくら\",\"週2回\",\"11月～1月\",1234567890,\r\n\
             202407,122203,0123456789,20261115,20261115,1,\"\",1,\"\",\"\",\"\",\"\",2,\"服薬の確認\",N,\"家族\",,\"\",\"毎日\",\"11月～1月\",1234567890,\r\n\
             202407,122203,0123456789,20261115,20261115,2,\"外出したい\",2,\"散歩できる\",\"\",\"\",\"\",1,\"通所\",Y,\"通所介護\",,\"\",\"週1回\",\"\",1234567890,\r\n",
        );
        let sheets = needs_sheets(&file);
        assert_eq!(sheets.len(), 1);
        assert_eq!(sheets[0].created, "令和8年11月15日");
        let lines = &sheets[0].lines;
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].need, Some(("入浴したい".to_string(), 2)));
        assert_eq!(lines[0].goal.as_ref().map(|(g, n)| (g.long.as_str(), *n)), Some(("安全に入浴できる", 2)));
        assert_eq!((lines[0].service.insured, lines[0].service.office.as_str()), ("○", "㈱さくら"));
        assert_eq!(
            (lines[1].need.clone(), lines[1].goal.clone()),
            (None, None),
            "the same need and goal continue"
        );
        assert_eq!(lines[1].service.insured, "");
        assert_eq!(lines[2].need, Some(("外出したい".to_string(), 1)));
        assert!(needs_sheets(&plan(&[])).is_empty());
    }

    #[test]
    fn the_week_is_a_grid_of_time_bands_and_weekdays() {
        let file = csv(
            Kind::Up3kyo,
            "202407,122203,0123456789,20261115,20261115,\"訪問看護\",2,1000,1100,\"\",,,\"\"\r\n\
             202407,122203,0123456789,20261115,20261115,\"訪問看護\",5,1000,1100,\"\",,,\"\"\r\n\
             202407,122203,0123456789,20261115,20261115,\"\",,,,\"起床\",0700,0730,\"\"\r\n\
             202407,122203,0123456789,20261115,20261115,\"\",,,,\"\",,,\"福祉用具貸与（歩行器）\"\r\n",
        );
        let sheet = &week_sheets(&file)[0];
        assert_eq!(
            sheet.slots.iter().map(|s| s.time.as_str()).collect::<Vec<_>>(),
            ["07:00〜07:30", "10:00〜11:00"]
        );
        assert_eq!(sheet.slots[0].activities, ["起床"]);
        assert!(sheet.slots[0].days.iter().all(Vec::is_empty));
        let visits: Vec<usize> =
            sheet.slots[1].days.iter().enumerate().filter(|(_, d)| !d.is_empty()).map(|(i, _)| i).collect();
        assert_eq!(visits, [1, 4], "火 and 金");
        assert_eq!(sheet.other, ["福祉用具貸与（歩行器）"]);
    }

    #[test]
    fn the_profile_hides_empty_slots_and_shows_values_as_on_paper() {
        let golden = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../careplan/tests/golden/UPHOSOKU_202612_1234567890_43_2234567890_13_20261120093100.CSV"
        );
        let file = CareplanFile::parse(Kind::Uphosoku, &std::fs::read(golden).unwrap()).unwrap();
        let sheet = &profile_sheets(&file)[0];
        let value = |label: &str| sheet.fields.iter().find(|f| f.label == label).map(|f| f.value.as_str());
        assert_eq!(value("利用者氏名"), Some("髙橋 花子"));
        assert_eq!(value("利用者住所２"), Some("①号室"), "kept as typed");
        assert_eq!(value("利用者性別"), Some("女性"));
        assert_eq!(value("利用者生年月日"), Some("昭和13年4月1日"));
        assert_eq!(value("居宅サービス計画作成（変更）日"), Some(""), "00000000 is blank");
        assert_eq!(value("区分支給限度基準額"), Some("27048"));
        assert_eq!(value("対象年月"), Some("令和8年12月"));
        assert_eq!(
            sheet.slots,
            [["13".to_string(), "16765".into(), "9800".into(), "0".into()]],
            "２–９ are empty"
        );
        assert!(sheet.fields.iter().all(|f| !f.label.starts_with('２')));
        assert!(profile_sheets(&plan(&[])).is_empty());
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

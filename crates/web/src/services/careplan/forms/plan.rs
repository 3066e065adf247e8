//! 第2表 (needs and goals), 第3表 (the week grid), and 第1表 and UPHOSOKU as labelled boxes.

use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::{Format, Kind};
use renraku_domain::time_jp::format_wareki;

use super::*;

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

//! The care-plan files as the paper forms care managers know, decoded from the items of the
//! national standard (v4.1): pure functions from a parsed file to the rows and cells of its form,
//! no I/O. The templates only lay the cells out.
//!
//! 第6表 サービス利用票 (UPPLAN, and UPJSK with the same layout for 実績) is a month calendar:
//! one row per service (office, service code, 用具, times), one column per day of the 対象年月,
//! the number of times (サービス回数) in each day's cell; the days a 日割 service may be billed
//! (日割対象日, 31 characters of '0'/'1') are marked. Times `HHMM` are shown as `HH:MM`;
//! `9999` is the standard's 「時間表示の無いサービス」 and is left blank, as on paper.

use renraku_domain::time_jp::format_wareki;
use time::{Date, Month};

mod allowance;
mod plan;
mod usage;

pub use self::allowance::*;
pub use self::plan::*;
pub use self::usage::*;

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

#[cfg(test)]
mod tests {
    use renraku_careplan::file::CareplanFile;
    use renraku_careplan::layout::Kind;

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

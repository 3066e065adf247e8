//! Throughput of the codec on a large 第6表 (UPPLAN): 100,000 valid rows with Japanese names,
//! dates across the month, several service kinds, 福祉用具 with TAIS codes and some 日割 rows.
//! Measures parse + check, parse alone and write alone, and prints the best and the median of
//! several runs. No assertions: run it in release mode and read the figures.
//!
//!     cargo run --release -p renraku-careplan --example bench [rows] [iterations] [only]
//!
//! `only` (`parse+check`, `parse`, `check`, `write` or `yobo`) measures just that one, e.g. under
//! a profiler. `yobo` is the 介護予防 pair: a 利用者基本情報 (UPKIHON, 71 items) and a 介護予防
//! サービス・支援計画書 (UPYOBO, 57 items) of `rows / 10` people each, mostly free text, parse +
//! check.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use renraku_careplan::check::{check, check_file};
use renraku_careplan::file::CareplanFile;
use renraku_careplan::layout::{Format, Item, Kind};

/// A small deterministic generator (SplitMix64), so that every run measures the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CARE_MANAGERS: &[&str] =
    &["介護 次郎", "髙橋 美智子", "佐々木 一郎", "渡邉 さくら", "齋藤 健太郎", "山﨑 ①子"];

/// (サービス事業者コード, サービス事業所名, サービスコード stem, 福祉用具).
const OFFICES: &[(&str, &str, &str, bool)] = &[
    ("2234567890", "㈱さくら訪問看護ステーション", "13", false),
    ("2234567891", "ヘルパーステーション「ひまわり」", "11", false),
    ("2234567892", "デイサービスセンター 流山の里", "15", false),
    ("2234567893", "㈲福祉用具のマルイチ 松戸営業所", "17", true),
    ("2234567894", "ショートステイ 髙砂苑（短期入所生活介護）", "21", false),
    ("2234567895", "ﾘﾊﾋﾞﾘ ﾃﾞｲｹｱ ｱｵｿﾞﾗ", "16", false),
];

const EQUIPMENT: &[&str] =
    &["車いす（自走用）", "特殊寝台 3モーター", "歩行器 \"アルコー\" 10型", "手すり（据置型）"];

/// One row of UPPLAN in layout order.
fn row(rng: &mut Rng, person: usize) -> Vec<String> {
    let (office, office_name, stem, equipment) = *rng.pick(OFFICES);
    let day = 1 + rng.below(31);
    let (start, end, daily) = match stem {
        "17" => ("9999".to_string(), "9999".to_string(), true),
        "21" => ("9999".to_string(), "9999".to_string(), rng.below(2) == 0),
        _ => {
            let hour = 8 + rng.below(10);
            let minutes = [0, 15, 30, 45][rng.below(4)];
            (format!("{hour:02}{minutes:02}"), format!("{:02}{minutes:02}", hour + 1), false)
        }
    };
    // 日割: the days of the month the service ran, as 31 bits (none after the 31st here).
    let bits = if daily {
        let from = rng.below(20);
        let to = from + 1 + rng.below(31 - from);
        (0..31).map(|d| if (from..to).contains(&d) { '1' } else { '0' }).collect()
    } else {
        String::new()
    };
    let units = if rng.below(50) == 0 { -(rng.below(300) as i64) } else { 80 + rng.below(1200) as i64 };
    vec![
        "202407".to_string(),
        "122203".to_string(),
        format!("{:010}", 100_000_000 + person),
        "20261120".to_string(),
        "202612".to_string(),
        "1234567890".to_string(),
        rng.pick(CARE_MANAGERS).to_string(),
        units.to_string(),
        if stem == "21" { rng.below(30).to_string() } else { String::new() },
        format!("202612{day:02}"),
        bits,
        start,
        end,
        (1 + rng.below(3)).to_string(),
        format!("{stem}{:04}", 1000 + rng.below(9000)),
        if equipment {
            format!("{:05}-{:06}", rng.below(100_000), rng.below(1_000_000))
        } else {
            String::new()
        },
        String::new(),
        if equipment { rng.pick(EQUIPMENT).to_string() } else { String::new() },
        // 明細判別コード: 福祉用具 only (「17:福祉用具貸与」以外の場合は「Null（空）」).
        if equipment { (1 + rng.below(3)).to_string() } else { String::new() },
        office.to_string(),
        office_name.to_string(),
        if rng.below(10) == 0 { "01".to_string() } else { String::new() },
        if rng.below(20) == 0 { "1" } else { "0" }.to_string(),
        "1234567890".to_string(),
        String::new(),
    ]
}

const FREE_TEXT: &[&str] = &[
    "妻と二人暮らし。長男は都内在住で、月に一度は様子を見に来る。",
    "膝の痛みで長く歩けない、\"散歩\"は続けたい",
    "朝は散歩、\r\n午後は読書。夕方に㈱さくらの配食サービス",
    "髙橋医院（①内科）に月2回通院",
    "ｻﾄｳ ﾀﾛｳ",
];

/// A valid value for any item of the 介護予防 kinds: free text from the list, the first code,
/// one date for every date (so that periods run forwards).
fn yobo_value(rng: &mut Rng, item: &Item, person: usize) -> String {
    match item.format {
        Format::Text if item.name.ends_with("ＮＯ") => (1 + rng.below(9)).to_string(),
        Format::Text if item.name == "家族構成 画像ファイル名" => String::new(),
        Format::Text => rng.pick(FREE_TEXT).to_string(),
        Format::Code(codes) => codes[0].0.to_string(),
        Format::Date => "20261110".to_string(),
        Format::YearMonth => "202407".to_string(),
        Format::InsuredNo => format!("{:010}", 100_000_000 + person),
        Format::Digits => "122203".to_string(),
        Format::Number => "1".to_string(),
        Format::Plain => "04-7158-3333".to_string(),
        _ => String::new(),
    }
}

/// Runs `f` `iterations` times; the best and the median time.
fn measure(iterations: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn report(what: &str, mb: f64, (best, median): (Duration, Duration)) {
    println!(
        "{what:<14} best {:>7.3} s ({:>6.1} MB/s)   median {:>7.3} s ({:>6.1} MB/s)",
        best.as_secs_f64(),
        mb / best.as_secs_f64(),
        median.as_secs_f64(),
        mb / median.as_secs_f64()
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    let iterations: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(7).max(1);
    let only = args.next();
    let run = |what: &str| only.as_deref().is_none_or(|o| o == what);

    let mut rng = Rng(0x5EED_CA4E);
    let records: Vec<Vec<String>> = (0..rows).map(|i| row(&mut rng, i / 12)).collect();
    let built = CareplanFile::build(Kind::Upplan, records);
    let bytes = built.write().map_err(|problems| format!("write: {} problems", problems.len()))?;
    let mb = bytes.len() as f64 / 1e6;

    // The file is what it should be: valid, and written back byte for byte.
    let parsed = CareplanFile::parse(Kind::Upplan, &bytes).map_err(|p| format!("parse: {p}"))?;
    let problems = parsed.check();
    if let Some(first) = problems.first() {
        return Err(format!("{} problems in the generated file, the first: {first}", problems.len()).into());
    }
    if parsed.write().map_err(|p| format!("rewrite: {} problems", p.len()))? != bytes {
        return Err("the parsed file does not write back byte for byte".into());
    }

    println!(
        "UPPLAN (第6表): {rows} rows, {} lines, {:.2} MB (MS932); {iterations} runs each",
        bytes.iter().filter(|b| **b == b'\n').count(),
        mb
    );
    if run("parse+check") {
        report(
            "parse + check",
            mb,
            measure(iterations, || {
                let file = CareplanFile::parse(Kind::Upplan, black_box(&bytes));
                black_box(file.map(|f| f.check().len()).ok());
            }),
        );
    }
    if run("parse") {
        report(
            "parse",
            mb,
            measure(iterations, || {
                black_box(CareplanFile::parse(Kind::Upplan, black_box(&bytes)).ok());
            }),
        );
    }
    if run("check") {
        report(
            "check",
            mb,
            measure(iterations, || {
                black_box(black_box(&parsed).check());
            }),
        );
    }
    if run("write") {
        report(
            "write",
            mb,
            measure(iterations, || {
                black_box(black_box(&parsed).write().ok());
            }),
        );
    }
    if run("yobo") {
        for kind in [Kind::Upkihon, Kind::Upyobo] {
            let people = (rows / 10).max(1);
            let records: Vec<Vec<String>> = (0..people)
                .map(|person| kind.items().iter().map(|item| yobo_value(&mut rng, item, person)).collect())
                .collect();
            let bytes = CareplanFile::build(kind, records)
                .write()
                .map_err(|problems| format!("write: {} problems", problems.len()))?;
            let parsed = CareplanFile::parse(kind, &bytes).map_err(|p| format!("parse: {p}"))?;
            if let Some(first) = parsed.check().first() {
                return Err(format!("{}: a problem in the generated file: {first}", kind.prefix()).into());
            }
            let mb = bytes.len() as f64 / 1e6;
            println!("{} ({}): {people} records, {mb:.2} MB (MS932)", kind.prefix(), kind.label());
            report(
                "parse + check",
                mb,
                measure(iterations, || {
                    let file = CareplanFile::parse(kind, black_box(&bytes));
                    black_box(file.map(|f| f.check().len()).ok());
                }),
            );
        }
    }
    if run("set") {
        // The 第6表 above with a 利用者補足情報 for each of its people (the golden one's record
        // under each 被保険者番号), checked as one 第6・7表 set: what the set adds to checking the
        // files one by one is finding every supplement person in the 第6表 (仕様 2.3).
        let golden = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/UPHOSOKU_202612_1234567890_43_2234567890_13_20261120093100.CSV"
        ))?;
        let template = CareplanFile::parse(Kind::Uphosoku, &golden).map_err(|p| format!("parse: {p}"))?;
        let fields: Vec<String> = template
            .records()
            .next()
            .ok_or("an empty golden supplement")?
            .items()
            .map(|(_, value)| value.to_string())
            .collect();
        let people = rows.div_ceil(12);
        let supplement: Vec<Vec<String>> = (0..people)
            .map(|person| {
                let mut record = fields.clone();
                record[2] = format!("{:010}", 100_000_000 + person);
                record
            })
            .collect();
        let supplement = CareplanFile::build(Kind::Uphosoku, supplement)
            .write()
            .map_err(|problems| format!("write: {} problems", problems.len()))?;
        let stamp = "1234567890_43_2234567890_13_20261120093100.CSV";
        let files = vec![
            (format!("UPPLAN_202612_{stamp}"), bytes.clone()),
            (format!("UPHOSOKU_202612_{stamp}"), supplement),
        ];
        let checked = check(&files);
        if let Some(problem) = checked.files.iter().flat_map(|f| &f.problems).next() {
            return Err(format!("a problem in the generated set: {problem}").into());
        }
        let mb = files.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6;
        println!("第6表 + 利用者補足情報 as a set: {rows} rows, {people} people, {mb:.2} MB");
        let one_by_one = measure(iterations, || {
            for (name, bytes) in &files {
                black_box(check_file(name, black_box(bytes)));
            }
        });
        report("files alone", mb, one_by_one);
        report("as a set", mb, measure(iterations, || drop(black_box(check(black_box(&files))))));
    }
    println!("goal: parse + check ≥ 50 MB/s on one core");
    Ok(())
}

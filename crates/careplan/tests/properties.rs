//! Property tests of the codec as a whole: valid records of every kind survive build → write →
//! parse byte for byte; any bytes at all can be parsed and checked without a panic; characters
//! outside MS932 are refused by `write`, naming the item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use renraku_careplan::file::CareplanFile;
use renraku_careplan::layout::{Format, Item, Kind};
use renraku_careplan::problem::Problem;

/// Few cases (debug builds), and no regression files written next to the sources.
fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: Some(Box::new(FileFailurePersistence::Off)), ..Config::default() }
}

// ---------------------------------------------------------------------------------------------
// Valid values, one strategy per item.

const DIGITS: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const ALNUM: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K',
    'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

/// Pieces of free text: ASCII with the CSV's own separators, kana of both widths, kanji
/// (JIS X 0208 and the IBM extension 髙), NEC special characters (①, ㈱, Ⅰ), full-width
/// punctuation, and characters MS932 codes twice (≒, ∵, ￢) that must come back as written.
const TEXT_PIECES: &[&str] = &[
    "a", "Z", "0", "9", " ", "-", ".", "/", "(", ")", "\"", ",", "\"\"", ",\"", "\r\n", "\n", "\r\n\r\n",
    "あ", "ん", "ア", "ヴ", "ｱ", "ﾊﾟ", "ｰ", "｡", "髙", "橋", "花", "子", "介", "護", "様", "①", "⑳", "㈱",
    "㈲", "Ⅰ", "ⅰ", "≒", "∵", "￢", "～", "∥", "―", "－", "（", "）", "「", "」", "、", "。", "　", "〒",
    "※", "○", "×", "℡", "№", "ヶ", "々", "〆", "\\", "~",
];

/// Pieces of items without a format (電話番号, TAISコード, 識別子): nothing that the CSV
/// would need to quote (see `known_bug_plain_values_with_separators_do_not_round_trip`).
const PLAIN_PIECES: &[&str] = &["0", "1", "5", "9", "A", "Z", "-", "(", ")", "１", "ア", "ｱ", "髙", "①"];

/// Bytes a character takes in MS932 (for the pieces above: ASCII and half-width kana one,
/// the rest two).
fn sjis_len(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) { 1 } else { 2 }).sum()
}

fn chars_of(set: &'static [char], len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(set), len).prop_map(|v| v.into_iter().collect()).boxed()
}

fn pieces(set: &'static [&'static str], count: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(set), count).prop_map(|v| v.concat()).boxed()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A real calendar date: mostly recent years, sometimes any year from 0001, and the last
/// days of months (29 February included) often.
fn date() -> BoxedStrategy<String> {
    let year = prop_oneof![3 => 1900u32..=2100, 1 => 1u32..=9999, 1 => Just(2000u32), 1 => Just(2028u32)];
    (year, 1u32..=12, any::<prop::sample::Index>(), any::<bool>())
        .prop_map(|(y, m, d, last)| {
            let days = days_in_month(y, m);
            let day = if last { days } else { 1 + d.index(days as usize) as u32 };
            format!("{y:04}{m:02}{day:02}")
        })
        .boxed()
}

fn year_month() -> BoxedStrategy<String> {
    (1u32..=9999, 1u32..=12).prop_map(|(y, m)| format!("{y:04}{m:02}")).boxed()
}

fn time() -> BoxedStrategy<String> {
    prop_oneof![
        10 => (0u32..24, 0u32..60).prop_map(|(h, m)| format!("{h:02}{m:02}")),
        1 => Just("2400".to_string()),
        1 => Just("0000".to_string()),
    ]
    .boxed()
}

fn insured_no() -> BoxedStrategy<String> {
    prop_oneof![
        // 生活保護単独: H and nine digits.
        1 => chars_of(DIGITS, 9..=9).prop_map(|d| format!("H{d}")),
        2 => chars_of(DIGITS, 10..=10),
    ]
    .boxed()
}

/// A value `item.format` accepts and `item.len` allows, never empty.
fn valid_value(item: &Item) -> BoxedStrategy<String> {
    let len = item.len.map(usize::from);
    let n = len.unwrap_or(12);
    match item.format {
        Format::Text => {
            let limit = len;
            prop_oneof![1 => Just("あ".to_string()), 6 => pieces(TEXT_PIECES, 1..=24)]
                .prop_map(move |mut s| {
                    if let Some(limit) = limit {
                        while sjis_len(&s) > limit {
                            s.pop();
                        }
                    }
                    s
                })
                .prop_filter("not empty", |s| !s.is_empty())
                .boxed()
        }
        Format::Number => chars_of(DIGITS, 1..=n),
        Format::Integer => (any::<bool>(), chars_of(DIGITS, 1..=n))
            .prop_map(|(neg, d)| if neg { format!("-{d}") } else { d })
            .boxed(),
        Format::Digits => chars_of(DIGITS, n..=n),
        Format::Alnum => chars_of(ALNUM, n..=n),
        Format::Date => date(),
        Format::DateOr(filler) => prop_oneof![3 => date(), 1 => Just(filler.to_string())].boxed(),
        Format::YearMonth => year_month(),
        Format::YearMonthOr(filler) => prop_oneof![3 => year_month(), 1 => Just(filler.to_string())].boxed(),
        Format::Time => time(),
        Format::TimeOr9999 => prop_oneof![3 => time(), 1 => Just("9999".to_string())].boxed(),
        Format::InsuredNo => insured_no(),
        Format::Code(codes) => prop::sample::select(codes).prop_map(|(code, _)| code.to_string()).boxed(),
        Format::DayBits => chars_of(&['0', '1'], 31..=31),
        Format::PostalCode => {
            (chars_of(DIGITS, 3..=3), chars_of(DIGITS, 4..=4)).prop_map(|(a, b)| format!("{a}-{b}")).boxed()
        }
        Format::UnitPrice => {
            (chars_of(DIGITS, 1..=2), chars_of(DIGITS, 2..=2)).prop_map(|(a, b)| format!("{a}.{b}")).boxed()
        }
        Format::Plain => pieces(PLAIN_PIECES, 1..=n),
    }
}

/// A value for the item: required items always have one, optional ones are empty a quarter
/// of the time.
fn item_value(item: &Item) -> BoxedStrategy<String> {
    if item.required {
        valid_value(item)
    } else {
        prop_oneof![1 => Just(String::new()), 3 => valid_value(item)].boxed()
    }
}

fn record(kind: Kind) -> Vec<BoxedStrategy<String>> {
    kind.items().iter().map(item_value).collect()
}

fn records(kind: Kind, count: std::ops::RangeInclusive<usize>) -> BoxedStrategy<Vec<Vec<String>>> {
    prop::collection::vec(record(kind), count).boxed()
}

/// Every CSV kind (the 介護予防 ones included); the 家族構成 image is a JPEG, checked apart.
fn csv_kinds() -> Vec<Kind> {
    Kind::ALL.into_iter().filter(|k| !k.is_image()).collect()
}

fn kind_and_records() -> BoxedStrategy<(Kind, Vec<Vec<String>>)> {
    prop::sample::select(csv_kinds()).prop_flat_map(|kind| (Just(kind), records(kind, 1..=6))).boxed()
}

/// A problem with its line replaced by the index of the record on that line.
type ByRecord = (Option<usize>, Option<(u16, &'static str)>, String);

/// Problems that say a single value is wrong in itself (count, required, quoting).
fn is_item_level(problem: &Problem) -> bool {
    ["項目数", "必須項目", "フリーテキスト"].iter().any(|p| problem.message.starts_with(p))
}

proptest! {
    #![proptest_config(config(192))]

    /// Valid records → build → write → parse give back every value, quoting and line, and
    /// writing the parsed file gives the same bytes.
    #[test]
    fn valid_records_round_trip((kind, records) in kind_and_records()) {
        for values in &records {
            for (item, value) in kind.items().iter().zip(values) {
                prop_assert_eq!(item.format.check(item, value), Ok(()), "generator: {} {:?}", item.name, value);
            }
        }
        let built = CareplanFile::build(kind, records.clone());
        let bytes = built.write().map_err(|e| TestCaseError::fail(format!("write: {e:?}")))?;
        let parsed = CareplanFile::parse(kind, &bytes).map_err(|e| TestCaseError::fail(format!("parse: {e}")))?;

        prop_assert_eq!(parsed.kind, kind);
        prop_assert_eq!(parsed.text.rows.len(), records.len());
        prop_assert!(parsed.text.final_newline);
        prop_assert!(parsed.text.alternates.is_empty(), "{:?}", parsed.text.alternates);
        let mut line = 1;
        for ((row, built_row), values) in parsed.text.rows.iter().zip(&built.text.rows).zip(&records) {
            let got: Vec<&str> = row.fields.iter().map(|f| f.value.as_str()).collect();
            prop_assert_eq!(&got, values);
            let quoted: Vec<bool> = row.fields.iter().map(|f| f.quoted).collect();
            let built_quoted: Vec<bool> = built_row.fields.iter().map(|f| f.quoted).collect();
            prop_assert_eq!(quoted, built_quoted);
            prop_assert_eq!(row.line, line, "a record starts after the line breaks inside the one before");
            line += 1 + values.iter().map(|v| v.matches('\n').count()).sum::<usize>();
        }
        prop_assert_eq!(parsed.write().map_err(|e| TestCaseError::fail(format!("rewrite: {e:?}")))?, bytes);

        // Valid values draw no problem about a value itself, before or after the round trip;
        // whatever the rules spanning items say, they say the same of both (built rows are
        // numbered 1, 2, … whatever their line breaks, so compare by record).
        let problems = parsed.check();
        prop_assert!(!problems.iter().any(is_item_level), "{:?}", problems);
        let by_record = |file: &CareplanFile, problems: Vec<Problem>| -> Vec<ByRecord> {
            problems
                .into_iter()
                .map(|p| (file.text.rows.iter().position(|r| r.line == p.line), p.item, p.message))
                .collect()
        };
        prop_assert_eq!(by_record(&built, built.check()), by_record(&parsed, problems));
    }
}

// ---------------------------------------------------------------------------------------------
// Anything at all.

fn golden_files() -> Vec<(Kind, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<(Kind, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("yobo")).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "CSV"))
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let kind = renraku_careplan::name::kind_of(&name).unwrap();
            (kind, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 17, "golden files in {}", dir.display());
    files
}

/// Fragments of MS932 text, valid and not: separators, quotes, every line ending, kana and
/// kanji (whose second byte may be a `"`-free ASCII byte such as 0x5C), lead bytes without a
/// trail, user-defined and doubly-coded characters, a UTF-8 BOM and UTF-8 text.
const BYTE_PIECES: &[&[u8]] = &[
    b",",
    b"\"",
    b"\"\"",
    b"\r\n",
    b"\n",
    b"\r",
    b"0",
    b"1",
    b"9",
    b"A",
    b"H",
    b"-",
    b".",
    b" ",
    b"202407",
    b"20261201",
    b"202612",
    b"00000000",
    b"000000",
    b"9999",
    b"2400",
    b"999999",
    b"9999999999",
    b"11AAAA",
    b"1111111111111111111111111111111",
    b"123-4567",
    b"10.00",
    &[0x82, 0xA0], // あ
    &[0x83, 0x5C], // ソ (trail byte 0x5C)
    &[0x95, 0x5C], // 表
    &[0xB1],       // ｱ
    &[0x87, 0x40], // ①
    &[0x87, 0x90], // ≒ (NEC special)
    &[0xEE, 0xE0], // 髙 (NEC-selected IBM extension)
    &[0xFB, 0xFC], // 髙 (IBM extension)
    &[0xF0, 0x40], // user-defined area
    &[0x81],       // lead byte alone
    &[0x85, 0x40], // unassigned
    &[0xA0],
    &[0xFD],
    &[0x80],
    &[0xEF, 0xBB, 0xBF],
    "あ".as_bytes(),
];

fn token_soup() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(prop::sample::select(BYTE_PIECES), 0..=200).prop_map(|v| v.concat()).boxed()
}

/// A golden file with a few bytes replaced, inserted or removed.
fn mutated_golden() -> BoxedStrategy<(Kind, Vec<u8>)> {
    let golden = golden_files();
    let edit = (any::<prop::sample::Index>(), 0u8..3, any::<u8>(), prop::sample::select(BYTE_PIECES));
    (prop::sample::select(golden), prop::collection::vec(edit, 1..=8))
        .prop_map(|((kind, mut bytes), edits)| {
            for (at, how, byte, piece) in edits {
                let i = at.index(bytes.len() + 1);
                match how {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => {
                        bytes.splice(i..i, piece.iter().copied());
                    }
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => bytes.push(byte),
                }
            }
            (kind, bytes)
        })
        .boxed()
}

/// Marker-shaped bytes: SOI, segments with lengths that fit or not, SOS, EOI.
fn jpeg_soup() -> BoxedStrategy<Vec<u8>> {
    const PIECES: &[&[u8]] = &[
        &[0xFF, 0xD8],
        &[0xFF, 0xD9],
        &[0xFF, 0xDA, 0x00, 0x02],
        &[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0],
        &[0xFF, 0xC2, 0x00, 0x03, 8],
        &[0xFF, 0xE0, 0x00, 0x10],
        &[0xFF, 0xFF],
        &[0xFF, 0xD0],
        &[0xFF],
        &[0x00],
        &[0x00, 0x00],
    ];
    prop::collection::vec(prop::sample::select(PIECES), 0..=20).prop_map(|v| v.concat()).boxed()
}

fn any_kind() -> BoxedStrategy<Kind> {
    prop::sample::select(csv_kinds()).boxed()
}

/// Parses and checks; on success also writes, and whatever is written parses to the same
/// records. Every problem with a column is on a line from 1.
fn parse_check_write(kind: Kind, bytes: &[u8]) -> Result<(), TestCaseError> {
    match CareplanFile::parse(kind, bytes) {
        Err(problem) => {
            prop_assert!(problem.column.is_none() || problem.line >= 1, "{problem:?}");
        }
        Ok(file) => {
            for problem in file.check() {
                prop_assert!(problem.column.is_none() || problem.line >= 1, "{problem:?}");
            }
            if let Ok(written) = file.write() {
                let again = CareplanFile::parse(kind, &written)
                    .map_err(|e| TestCaseError::fail(format!("written bytes do not parse: {e}")))?;
                prop_assert_eq!(&again.text.rows, &file.text.rows);
            }
        }
    }
    Ok(())
}

/// A value of exactly `len` UTF-8 bytes (or any length up to 40) from digits and MS932
/// characters of two (±, §) and three (あ, ｱ, 髙) UTF-8 bytes: checks that slice a value by
/// bytes meet a character boundary anywhere.
fn byte_sized_value(item: &Item) -> BoxedStrategy<String> {
    const MIXED: &[char] = &['0', '1', '9', '0', '1', '-', '.', '±', '§', 'あ', 'ｱ', '髙'];
    let target = item.len.map(usize::from);
    (prop::collection::vec(prop::sample::select(MIXED), 1..=40), 1usize..=40)
        .prop_map(move |(chars, any_len)| {
            let target = target.unwrap_or(any_len);
            let mut s = String::new();
            for c in chars {
                if s.len() + c.len_utf8() > target {
                    break;
                }
                s.push(c);
            }
            while s.len() < target {
                s.push('0');
            }
            s
        })
        .boxed()
}

/// Records of the right shape whose values are valid, empty, or hostile in their byte length.
fn hostile_records() -> BoxedStrategy<(Kind, Vec<Vec<String>>)> {
    any_kind()
        .prop_flat_map(|kind| {
            let record: Vec<BoxedStrategy<String>> = kind
                .items()
                .iter()
                .map(|item| {
                    prop_oneof![1 => Just(String::new()), 2 => valid_value(item), 2 => byte_sized_value(item)]
                        .boxed()
                })
                .collect();
            (Just(kind), prop::collection::vec(record, 1..=4))
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(256))]

    /// The 家族構成 image check, on any bytes and on JPEG-looking soup.
    #[test]
    fn image_check_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..=600), soup in jpeg_soup()) {
        let _ = renraku_careplan::image::check(&bytes);
        let _ = renraku_careplan::image::check(&soup);
    }

    #[test]
    fn arbitrary_bytes_never_panic(kind in any_kind(), bytes in prop::collection::vec(any::<u8>(), 0..=600)) {
        parse_check_write(kind, &bytes)?;
    }

    #[test]
    fn ms932_fragments_never_panic(kind in any_kind(), bytes in token_soup()) {
        parse_check_write(kind, &bytes)?;
    }

    #[test]
    fn mutated_golden_files_never_panic((kind, bytes) in mutated_golden()) {
        parse_check_write(kind, &bytes)?;
    }

    /// Found two char-boundary panics (postal code, 日割対象日) within a few dozen cases.
    #[test]
    fn hostile_values_in_well_shaped_rows_never_panic((kind, records) in hostile_records()) {
        if let Ok(bytes) = CareplanFile::build(kind, records).write() {
            parse_check_write(kind, &bytes)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Characters MS932 does not have.

/// Not in MS932: outside the BMP (𠮷, emoji), and BMP characters that only look like MS932
/// ones (WAVE DASH 〜 rather than ～, EM DASH — rather than ―, ‖ rather than ∥, ¢ £ ¬ rather
/// than the full-width ones), other scripts.
const NOT_MS932: &[char] =
    &['𠮷', '😀', '🙂', '👨', '\u{1F1EF}', '〜', '—', '‖', '¢', '£', '¬', 'é', '한', '\u{2603}'];

fn text_items(kind: Kind) -> Vec<usize> {
    kind.items().iter().enumerate().filter(|(_, item)| item.format == Format::Text).map(|(i, _)| i).collect()
}

/// A valid file of a kind with free text, one of whose Text values gets a character outside
/// MS932 somewhere in it.
/// A file's kind and records, the record and item (indices) given a character outside MS932,
/// that character and the item's whole value.
type BadText = (Kind, Vec<Vec<String>>, usize, usize, char, String);

fn file_with_bad_text() -> BoxedStrategy<BadText> {
    let kinds: Vec<Kind> = csv_kinds().into_iter().filter(|k| !text_items(*k).is_empty()).collect();
    prop::sample::select(kinds)
        .prop_flat_map(|kind| {
            (
                Just(kind),
                records(kind, 1..=4),
                any::<prop::sample::Index>(),
                prop::sample::select(text_items(kind)),
                prop::sample::select(NOT_MS932),
                pieces(TEXT_PIECES, 0..=6),
                pieces(TEXT_PIECES, 0..=6),
            )
        })
        .prop_map(|(kind, mut records, row, field, bad, before, after)| {
            let row = row.index(records.len());
            records[row][field] = format!("{before}{bad}{after}");
            let value = records[row][field].clone();
            (kind, records, row, field, bad, value)
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(128))]

    /// `write` never replaces a character: it refuses, naming the record's line and the item.
    #[test]
    fn characters_outside_ms932_are_refused_by_item((kind, records, row, field, bad, value) in file_with_bad_text()) {
        let item = &kind.items()[field];
        let file = CareplanFile::build(kind, records);
        let line = file.text.rows[row].line;
        let problems = match file.write() {
            Ok(bytes) => return Err(TestCaseError::fail(format!("written ({} bytes) despite {bad:?} in {value:?}", bytes.len()))),
            Err(problems) => problems,
        };
        prop_assert!(
            problems.iter().any(|p| p.line == line && p.item == Some((item.no, item.name)) && p.message.contains(bad)),
            "{:?} not named for item {} {} in {:?}", problems, item.no, item.name, value
        );
        prop_assert!(problems.iter().all(|p| p.item.is_some_and(|(no, _)| kind.items()[usize::from(no) - 1].format == Format::Text)), "{problems:?}");
        // check() says so too.
        prop_assert!(file.check().iter().any(|p| p.line == line && p.item == Some((item.no, item.name))));
    }
}

// ---------------------------------------------------------------------------------------------
// Doubly-coded characters written with the other code come back as they were.

/// (character, the code `write` uses, another code MS932 gives it).
const DOUBLE_CODES: &[(char, [u8; 2], [u8; 2])] = &[
    ('髙', [0xFB, 0xFC], [0xEE, 0xE0]),
    ('≒', [0x81, 0xE0], [0x87, 0x90]),
    ('≡', [0x81, 0xDF], [0x87, 0x91]),
    ('∵', [0x81, 0xE6], [0x87, 0x9A]),
    ('∪', [0x81, 0xBE], [0x87, 0x9C]),
    ('∩', [0x81, 0xBF], [0x87, 0x9B]),
    ('￢', [0x81, 0xCA], [0xEE, 0xF9]),
    ('ⅰ', [0xFA, 0x40], [0xEE, 0xEF]),
];

/// Replaces, at character boundaries, `ours` with `other`.
fn recode(bytes: &[u8], ours: [u8; 2], other: [u8; 2]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        if matches!(lead, 0x81..=0x9F | 0xE0..=0xFC) && i + 1 < bytes.len() {
            let code = [lead, bytes[i + 1]];
            out.extend_from_slice(if code == ours { &other } else { &code });
            i += 2;
        } else {
            out.push(lead);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn other_codes_of_a_character_are_written_back_as_read(
        (kind, records) in kind_and_records(),
        (c, ours, other) in prop::sample::select(DOUBLE_CODES),
    ) {
        let Some(field) = text_items(kind).first().copied() else { return Ok(()) };
        let mut records = records;
        records[0][field] = format!("{c}と{c}");
        let bytes = CareplanFile::build(kind, records.clone()).write().unwrap();
        let source = recode(&bytes, ours, other);
        prop_assert_ne!(&source, &bytes);
        let parsed = CareplanFile::parse(kind, &source).unwrap();
        prop_assert_eq!(parsed.text.rows[0].fields[field].value.as_str(), records[0][field].as_str());
        prop_assert_eq!(parsed.write().unwrap(), source);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: bugs these properties found, each with the smallest input.

fn sjis_row(kind: Kind, values: &[(usize, &str)]) -> Vec<u8> {
    let mut fields = vec![String::new(); kind.items().len()];
    for (no, value) in values {
        fields[no - 1] = (*value).to_string();
    }
    CareplanFile::build(kind, vec![fields]).write().unwrap()
}

#[test]
fn a_postal_code_with_a_multibyte_character_is_refused_not_a_panic() {
    // 利用者郵便番号 (UP1KYO item 5) of 8 UTF-8 bytes with あ across byte 3.
    let bytes = sjis_row(Kind::Up1kyo, &[(5, "12あ456")]);
    let file = CareplanFile::parse(Kind::Up1kyo, &bytes).unwrap();
    assert!(file.check().iter().any(|p| p.item.is_some_and(|(no, _)| no == 5)));
}

#[test]
fn day_bits_with_a_multibyte_character_are_refused_not_a_panic() {
    // 日割対象日 of 31 UTF-8 bytes (28 digits and あ) in a 30-day month.
    let bits = format!("{}あ", "0".repeat(28));
    let bytes = sjis_row(Kind::Upplan, &[(5, "202604"), (11, &bits)]);
    let file = CareplanFile::parse(Kind::Upplan, &bytes).unwrap();
    assert!(file.check().iter().any(|p| p.item.is_some_and(|(no, _)| no == 11)));
}

#[test]
fn unquoted_values_may_not_hold_separators() {
    // 利用者電話番号 (UPHOSOKU item 12, Format::Plain) is written without quotes.
    let item = &Kind::Uphosoku.items()[11];
    for value in ["03,1234", "03\"1234", "03\r\n1234"] {
        assert!(item.format.check(item, value).is_err(), "{value:?}");
    }
}

#[test]
fn characters_the_encoder_would_change_count_as_outside_ms932() {
    for c in ['¥', '‾', '−'] {
        let value = format!("{c}500");
        let item = &Kind::Up3kyo.items()[5];
        assert!(item.format.check(item, &value).unwrap_err().contains(c));
        let mut fields = vec![String::new(); Kind::Up3kyo.items().len()];
        fields[5] = value;
        let problems = CareplanFile::build(Kind::Up3kyo, vec![fields]).write().unwrap_err();
        assert_eq!(problems[0].item, Some((6, item.name)), "{c}");
    }
}

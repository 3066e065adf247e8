//! One file: its records checked item by item against the layout, and written back.

use crate::csv::{self, Field, Row, Text};
use crate::layout::{Format, Item, Kind};
use crate::problem::Problem;

/// The CSVバージョン of the v4.1 interface.
pub const CSV_VERSION: &str = "202407";

/// A file of one kind: its records as read (or as built), ready to check or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareplanFile {
    pub kind: Kind,
    pub text: Text,
}

/// One record seen through its layout.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub kind: Kind,
    pub row: &'a Row,
}

impl<'a> Record<'a> {
    /// The value of the item called `name` in the layout.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        let item = self.kind.item(name)?;
        self.row.fields.get(usize::from(item.no) - 1).map(|f| f.value.as_str())
    }

    /// Every item with its value, in layout order.
    pub fn items(&self) -> impl Iterator<Item = (&'static Item, &'a str)> + 'a {
        let row = self.row;
        self.kind.items().iter().zip(row.fields.iter().map(|f| f.value.as_str()))
    }
}

impl CareplanFile {
    /// Reads a file's bytes. Text that cannot be read at all (not MS932, an unclosed quote) is
    /// refused with its line and column; everything else is left to [`CareplanFile::check`].
    pub fn parse(kind: Kind, bytes: &[u8]) -> Result<CareplanFile, Problem> {
        let mut text = csv::split(&csv::decode(bytes)?)?;
        text.alternates = csv::alternates(bytes);
        Ok(CareplanFile { kind, text })
    }

    /// A file built from values, one `Vec` per record in layout order: free text is quoted,
    /// everything else is not, lines end in CR+LF.
    pub fn build(kind: Kind, records: Vec<Vec<String>>) -> CareplanFile {
        let items = kind.items();
        let rows = records
            .into_iter()
            .enumerate()
            .map(|(i, values)| Row {
                line: i + 1,
                fields: values
                    .into_iter()
                    .enumerate()
                    .map(|(n, value)| Field {
                        quoted: items.get(n).is_some_and(|item| item.format == Format::Text),
                        value: value.into(),
                    })
                    .collect(),
            })
            .collect();
        CareplanFile { kind, text: Text { rows, final_newline: true, ..Text::default() } }
    }

    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.text.rows.iter().map(move |row| Record { kind: self.kind, row })
    }

    /// Every problem of every record: item count, required items, formats and lengths,
    /// quoting, one CSVバージョン per file, and the rules that span items and rows.
    pub fn check(&self) -> Vec<Problem> {
        self.check_up_to(usize::MAX)
    }

    /// As [`CareplanFile::check`], stopping after about `limit` problems (a file of garbage
    /// would otherwise give one problem per line, millions of them).
    pub fn check_up_to(&self, limit: usize) -> Vec<Problem> {
        let mut problems = Vec::new();
        let items = self.kind.items();
        if self.text.rows.is_empty() {
            problems.push(Problem::file("レコードがありません"));
        }
        let mut version: Option<&str> = None;
        for row in &self.text.rows {
            if problems.len() >= limit {
                break;
            }
            if row.fields.len() != items.len() {
                problems.push(Problem::line(
                    row.line,
                    format!("項目数が{}ではありません（{}項目あります）", items.len(), row.fields.len()),
                ));
                continue;
            }
            for (item, field) in items.iter().zip(&row.fields) {
                check_field(row.line, item, field, &mut problems);
            }
            let v = row.fields[0].value.as_str();
            match version {
                None => version = Some(v),
                Some(first) if first != v => problems.push(Problem::item(
                    row.line,
                    &items[0],
                    format!("1ファイルに複数のCSVバージョンは混在できません（先頭のレコードは{first}）"),
                )),
                Some(_) => {}
            }
        }
        if problems.len() < limit {
            crate::rules::check(self, &mut problems);
        }
        problems.truncate(limit);
        problems
    }

    /// The file's bytes. Characters outside MS932 are reported with their record and item,
    /// never replaced.
    pub fn write(&self) -> Result<Vec<u8>, Vec<Problem>> {
        let items = self.kind.items();
        csv::write(&self.text).map_err(|bad| {
            bad.into_iter()
                .map(|u| {
                    let row = &self.text.rows[u.row];
                    let message = crate::layout::outside_ms932(u.character);
                    match items.get(u.field) {
                        Some(item) => Problem::item(row.line, item, message),
                        None => Problem::line(row.line, message),
                    }
                })
                .collect()
        })
    }
}

fn check_field(line: usize, item: &Item, field: &Field, problems: &mut Vec<Problem>) {
    let value = field.value.as_str();
    if value.is_empty() {
        if item.required {
            problems.push(Problem::item(line, item, "必須項目が空です"));
        }
        return;
    }
    // The layout states only 「フリーテキストは""（半角）で囲い」: free text must be quoted. It says
    // nothing against quoting other items, and in CSV the quotes are not part of the value, so a
    // quoted code or date (`"20261101"`) is read as its value and checked as such; it is written
    // back quoted, as it came.
    if item.format == Format::Text && !field.quoted {
        problems.push(Problem::item(line, item, "フリーテキストは \"（半角）で囲みます"));
    }
    if let Err(message) = item.format.check(item, value) {
        problems.push(Problem::item(line, item, message));
    }
}

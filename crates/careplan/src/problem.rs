//! What is wrong with a file, and where: the line (from 1), the column where the tokenizer
//! stopped, or the item by number and name.

use std::fmt;

use crate::layout::Item;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line in the file, from 1; 0 for the file as a whole (its name, a missing set member).
    pub line: usize,
    /// Character column in the line, from 1, where the text itself is malformed.
    pub column: Option<usize>,
    /// The item concerned: number and name from the layout.
    pub item: Option<(u16, &'static str)>,
    pub message: String,
}

impl Problem {
    pub fn file(message: impl Into<String>) -> Self {
        Problem { line: 0, column: None, item: None, message: message.into() }
    }

    pub fn at(line: usize, column: usize, message: impl Into<String>) -> Self {
        Problem { line, column: Some(column), item: None, message: message.into() }
    }

    pub fn line(line: usize, message: impl Into<String>) -> Self {
        Problem { line, column: None, item: None, message: message.into() }
    }

    pub fn item(line: usize, item: &Item, message: impl Into<String>) -> Self {
        Problem { line, column: None, item: Some((item.no, item.name)), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}行目", self.line)?;
            if let Some(column) = self.column {
                write!(f, " {column}文字目")?;
            }
            if let Some((no, name)) = self.item {
                write!(f, " 項目{no}「{name}」")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

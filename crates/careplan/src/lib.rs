//! ケアプランデータ連携 (PRODUCT.md F1–F4): the national CSV standard v4.1 for the 居宅 and
//! 介護予防 interfaces (CSVバージョン 202407), read and written exactly, with no I/O — bytes in, bytes out.
//!
//! - [`layout`]: every item of every file kind, and the check of one value;
//! - [`csv`]: MS932 text to records of fields and back, byte for byte;
//! - [`name`]: file names, parsed and printed exactly;
//! - [`file`]: a file of one kind, checked item by item, and written;
//! - `rules`: the checks that span items and rows (第7表 subtotal rows, 日割, months, the
//!   CSVバージョン of each service month, limit slots, service types outside the exchange);
//! - [`sets`]: transmission sets by stamp, complete or not, in the order to apply them;
//! - [`check`]: all of it for a batch of files, as the CLI and the web upload use it, and the
//!   rules left unchecked for want of the national service-code master;
//! - [`image`]: the 介護予防 家族構成 image, checked as a JPEG.
//!
//! The 介護予防 kinds (仕様 3) live beside the 居宅 ones: their tables in `layout::yobo`, their
//! rules in `rules_yobo`.

pub mod check;
pub mod csv;
pub mod file;
pub mod image;
pub mod layout;
pub mod name;
pub mod problem;
mod rules;
mod rules_yobo;
pub mod sets;

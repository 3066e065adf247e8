//! The care-plan codec on any input: the first byte picks the file kind
//! (`Kind::ALL[b % Kind::ALL.len()]`, the 介護予防 kinds included), the rest is the file; for the
//! 家族構成 image (`UPKIHON_IMAGE`) the rest goes to the JPEG check instead. Parsing and checking never panic; a file that parses and writes
//! parses again from what was written to the same records. The whole input, read as UTF-8
//! (lossily), is also tried as a file name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renraku_careplan::check::check_file;
use renraku_careplan::file::CareplanFile;
use renraku_careplan::layout::Kind;
use renraku_careplan::name::FileName;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    if let Ok(parsed) = FileName::parse(&name) {
        // What a parsed name prints parses to the same name.
        assert_eq!(FileName::parse(&parsed.to_string()).as_ref(), Ok(&parsed));
    }

    let Some((&first, bytes)) = data.split_first() else { return };
    let kind = Kind::ALL[usize::from(first) % Kind::ALL.len()];
    if kind.is_image() {
        let _ = renraku_careplan::image::check(bytes);
        let _ = check_file("UPKIHON_IMAGE_1234567890_46_2234567890_A6_20261120093000_0001.JPG", bytes);
        return;
    }
    match CareplanFile::parse(kind, bytes) {
        Err(problem) => assert!(problem.column.is_none() || problem.line >= 1, "{problem:?}"),
        Ok(file) => {
            for problem in file.check() {
                assert!(problem.column.is_none() || problem.line >= 1, "{problem:?}");
            }
            if let Ok(written) = file.write() {
                let again = match CareplanFile::parse(kind, &written) {
                    Ok(again) => again,
                    Err(problem) => panic!("written bytes do not parse: {problem}"),
                };
                assert_eq!(again.text.rows, file.text.rows);
            }
            // The whole check as an upload sees it, with a valid name of this kind (so the
            // months in the file are held against the name's).
            let month = if kind.has_month() { "_202612" } else { "" };
            let name = format!("{}{month}_1234567890_43_2234567890_13_20261120093000.CSV", kind.prefix());
            let _ = check_file(&name, bytes);
        }
    }
});

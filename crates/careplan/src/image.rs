//! The 家族構成 image of a 利用者基本情報 (`UPKIHON_IMAGE_…_{枝番}.JPG`): the layout asks for a
//! JPEG. It is checked as one, not read as CSV: the start of image (FF D8), a well-formed chain
//! of marker segments up to the start of scan, a frame header (SOFn) with a width and a height,
//! and the end of image (FF D9) after the scan (a cut file has none); and it must not be larger
//! than [`MAX_IMAGE_BYTES`]. Bytes after the end of image are allowed: some phones append their
//! own data there. The pixels are not decoded.

use crate::problem::Problem;

/// The largest image accepted (a scanned family diagram is far smaller).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// What the headers of a valid JPEG say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u16,
    pub height: u16,
}

/// Checks that `bytes` are a JPEG of at most [`MAX_IMAGE_BYTES`].
pub fn check(bytes: &[u8]) -> Result<JpegInfo, Problem> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Problem::file(format!(
            "家族構成画像が大きすぎます（{} MB まで）",
            MAX_IMAGE_BYTES / 1024 / 1024
        )));
    }
    let not_jpeg = |why: &str| Problem::file(format!("家族構成画像が JPEG 形式ではありません（{why}）"));
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(not_jpeg("先頭が JPEG の開始マーカー FFD8 ではありません"));
    }
    let mut at = 2;
    let mut info = None;
    loop {
        // Fill bytes (FF FF …) may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Err(not_jpeg("マーカーの並びが壊れています"));
        };
        at += 2;
        match marker {
            // Markers without a segment.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Err(not_jpeg("画像データ（SOS）の前に終わっています")),
            _ => {}
        }
        let (Some(&hi), Some(&lo)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Err(not_jpeg("セグメントの長さがありません"));
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len < 2 || at + len > bytes.len() {
            return Err(not_jpeg("セグメントの長さがファイルに収まりません"));
        }
        let segment = &bytes[at + 2..at + len];
        // SOF0–SOF15, but DHT (C4), JPG (C8) and DAC (CC).
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let [_, h1, h0, w1, w0, ..] = *segment else {
                return Err(not_jpeg("フレームヘッダが短すぎます"));
            };
            let (width, height) = (u16::from_be_bytes([w1, w0]), u16::from_be_bytes([h1, h0]));
            if width == 0 || height == 0 {
                return Err(not_jpeg("画像の幅か高さが 0 です"));
            }
            info = Some(JpegInfo { width, height });
        }
        at += len;
        if marker == 0xDA {
            // Start of scan: entropy-coded data follows, up to the end marker (looked for from
            // the end: usually the last two bytes).
            let info = info.ok_or_else(|| not_jpeg("フレームヘッダ（SOF）がありません"))?;
            if !bytes[at..].windows(2).rev().any(|w| w == [0xFF, 0xD9]) {
                return Err(not_jpeg(
                    "JPEG の終了マーカー FFD9 がありません。途中で切れている可能性があります",
                ));
            }
            return Ok(info);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The smallest JPEG-shaped bytes: SOI, a baseline SOF0 of `width`×`height`, SOS, one byte
    /// of scan data, EOI.
    pub(crate) fn tiny_jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend([0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
        let [h1, h0] = height.to_be_bytes();
        let [w1, w0] = width.to_be_bytes();
        bytes.extend([0xFF, 0xC0, 0x00, 0x0B, 8, h1, h0, w1, w0, 1, 1, 0x11, 0]);
        bytes.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
        bytes.extend([0x12, 0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn a_jpeg_passes_with_its_size() {
        assert_eq!(check(&tiny_jpeg(640, 480)), Ok(JpegInfo { width: 640, height: 480 }));
        // Data a phone appends after the end of image.
        let mut trailer = tiny_jpeg(640, 480);
        trailer.extend(b"SEFHtrailer\0\0");
        assert_eq!(check(&trailer), Ok(JpegInfo { width: 640, height: 480 }));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let jpeg = tiny_jpeg(640, 480);
        let refused = |bytes: &[u8], why: &str| {
            let problem = check(bytes).unwrap_err();
            assert!(problem.message.contains(why), "{}", problem.message);
        };
        refused(b"", "FFD8");
        refused(b"\x89PNG\r\n\x1a\n", "FFD8");
        refused(b"1,2,3\r\n", "FFD8");
        refused(&jpeg[..jpeg.len() - 1], "FFD9");
        refused(&[0xFF, 0xD8, 0xFF, 0xD9], "SOS");
        refused(&tiny_jpeg(0, 480), "0");
        let mut no_frame = vec![0xFF, 0xD8];
        no_frame.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        refused(&no_frame, "SOF");
        let mut long = jpeg.clone();
        long[5] = 0xFF; // APP0 claims more than the file holds
        refused(&long, "長さ");
        let mut big = jpeg[..jpeg.len() - 2].to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        big.extend([0xFF, 0xD9]);
        refused(&big, "大きすぎます");
        // An end marker only inside the headers (an embedded thumbnail's) does not count.
        let mut cut = tiny_jpeg(640, 480);
        cut.truncate(cut.len() - 3);
        cut.splice(2..2, [0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9]);
        refused(&cut, "FFD9");
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let jpeg = tiny_jpeg(3, 2);
        for end in 0..jpeg.len() {
            let _ = check(&jpeg[..end]);
            let mut cut = jpeg[..end].to_vec();
            cut.extend([0xFF, 0xD9]);
            let _ = check(&cut);
        }
    }
}

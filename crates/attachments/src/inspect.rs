//! What an uploaded file is, decided from its content, and what is kept of it.
//!
//! Photos are judged from their header before a single pixel is decoded: a PNG of a few
//! hundred kilobytes can declare 100 megapixels, so the pixel count and the memory decoding
//! will take are checked first ([`memory_needed`]), and the caller runs photos within a memory
//! budget. Scaling uses area averaging, which needs no buffer larger than its result.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most pixels a photo may have (40 megapixels, e.g. 7300 × 5480; phones take 12–24 by
/// default). More is refused from the header, before decoding.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most bytes the decoded pixels of one photo may take (40 megapixels of 8-bit RGBA).
pub const MAX_DECODED_BYTES: u64 = MAX_PIXELS * 4;
/// Most memory processing one photo may take (the decoded pixels, a progressive JPEG's
/// coefficients, the stored copy): the server decodes photos within this budget, so a photo
/// that needs more is refused from its header, never run.
pub const DECODING_BUDGET_BYTES: u64 = 160 * 1024 * 1024;
/// Longest side of a stored photo; larger ones are scaled down (a 4K screen's width).
pub const STORED_SIDE: u32 = 2560;
/// Longest side of a thumbnail.
pub const THUMB_SIDE: u32 = 320;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Photo,
    Pdf,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::Pdf => "pdf",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Kind::Photo => "image/jpeg",
            Kind::Pdf => "application/pdf",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "photo" => Some(Kind::Photo),
            "pdf" => Some(Kind::Pdf),
            _ => None,
        }
    }
}

/// What is stored for one upload.
#[derive(Debug)]
pub struct Processed {
    pub kind: Kind,
    /// The bytes to keep: a re-encoded JPEG without any metadata, or the PDF as sent.
    pub content: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub width: u32,
    pub height: u32,
}

/// Why a file is refused, in words for the user.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("ファイルが大きすぎます（1ファイル {} MB まで）。", MAX_FILE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("空のファイルです。")]
    Empty,
    #[error(
        "写真（JPEG・PNG）と PDF のみ添付できます。HEIC の写真は、端末の設定で「互換性優先」にするか JPEG に変換してください。"
    )]
    UnsupportedType,
    #[error(
        "写真の画素数が多すぎます（{}万画素まで）。カメラの解像度を下げるか、縮小してから添付してください。",
        MAX_PIXELS / 10_000
    )]
    TooManyPixels,
    #[error(
        "この写真は読み込みに約{needed_mb} MB のメモリが必要で、上限（{} MB）を超えます。プログレッシブ形式の JPEG は特に多く必要です。縮小するか、通常の JPEG で保存し直してから添付してください。",
        DECODING_BUDGET_BYTES / 1024 / 1024
    )]
    TooMuchMemory { needed_mb: u64 },
    #[error("写真を読み取れませんでした（壊れているか、大きすぎます）。")]
    BrokenImage,
}

/// Recognises JPEG, PNG and PDF by their first bytes, and HEIC to say so clearly.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("pdf")
    } else {
        None
    }
}

/// What a file is, from its size and first bytes.
fn kind_of(bytes: &[u8]) -> Result<Option<ImageFormat>, Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Refused::TooLarge);
    }
    match sniff(bytes) {
        Some("pdf") => Ok(None),
        Some("jpeg") => Ok(Some(ImageFormat::Jpeg)),
        Some(_) => Ok(Some(ImageFormat::Png)),
        None => Err(Refused::UnsupportedType),
    }
}

/// How much memory processing `bytes` will take at most, read from the header alone (no pixel
/// is decoded); the file is refused here if it is not a photo or PDF, has too many pixels, or
/// needs more than [`DECODING_BUDGET_BYTES`]. Cheap: call it first, and process the file when
/// the memory is available.
pub fn memory_needed(bytes: &[u8]) -> Result<u64, Refused> {
    let Some(format) = kind_of(bytes)? else { return Ok(0) };
    let decoder = decoder(bytes, format)?;
    let coefficients = if format == ImageFormat::Jpeg {
        coefficient_bytes(&frame(bytes).ok_or(Refused::BrokenImage)?)
    } else {
        0
    };
    let stored = u64::from(STORED_SIDE) * u64::from(STORED_SIDE) * 3;
    let needed = decoder.total_bytes() + coefficients + stored;
    if needed > DECODING_BUDGET_BYTES {
        return Err(Refused::TooMuchMemory { needed_mb: needed.div_ceil(1024 * 1024) });
    }
    Ok(needed)
}

/// Checks and cleans one upload. CPU-heavy for photos: call it off the async runtime, after
/// [`memory_needed`].
pub fn process(bytes: &[u8]) -> Result<Processed, Refused> {
    match kind_of(bytes)? {
        None => {
            Ok(Processed { kind: Kind::Pdf, content: bytes.to_vec(), thumbnail: None, width: 0, height: 0 })
        }
        Some(format) => {
            // The budget holds whoever calls: the header is read again (it costs nothing).
            memory_needed(bytes)?;
            photo(bytes, format)
        }
    }
}

/// A decoder that has read the header and accepted the size; nothing decoded yet.
fn decoder(bytes: &[u8], format: ImageFormat) -> Result<impl ImageDecoder + '_, Refused> {
    let mut limits = Limits::default();
    // The side limits only stop absurd headers early; the pixel count below is the rule.
    limits.max_image_width = Some(65_000);
    limits.max_image_height = Some(65_000);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| match e {
        ImageError::Limits(_) => Refused::TooManyPixels,
        _ => Refused::BrokenImage,
    })?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refused::TooManyPixels);
    }
    if width == 0 || height == 0 || decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(Refused::BrokenImage);
    }
    Ok(decoder)
}

/// What a JPEG's frame header (SOF) says: whether it is progressive, its size, and each
/// component's sampling factors (horizontal, vertical).
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    progressive: bool,
    width: u64,
    height: u64,
    sampling: Vec<(u64, u64)>,
}

/// Reads the frame header of a JPEG, walking its segments; `None` if there is none before the
/// first scan.
fn frame(bytes: &[u8]) -> Option<Frame> {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        match marker {
            // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Length (2), precision (1), height (2), width (2), count (1), then 3 bytes a
                // component: id, sampling (h << 4 | v), table.
                let sof = bytes.get(i + 4..i + 2 + length)?;
                let count = usize::from(*sof.get(5)?);
                let sampling = (0..count)
                    .map(|c| sof.get(7 + 3 * c).map(|s| (u64::from(s >> 4), u64::from(s & 0x0F))))
                    .collect::<Option<Vec<_>>>()?;
                return Some(Frame {
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    height: u64::from(u16::from_be_bytes([sof[1], sof[2]])),
                    width: u64::from(u16::from_be_bytes([sof[3], sof[4]])),
                    sampling,
                });
            }
            0xDA | 0xD9 => return None,
            _ => i += 2 + length,
        }
    }
    None
}

/// The memory a progressive JPEG's coefficients take until its last scan: the decoder keeps
/// every block of every component, 64 coefficients of 2 bytes each, whatever the output colour
/// (so 4 components for CMYK). A baseline JPEG is decoded a row of blocks at a time: nothing.
fn coefficient_bytes(frame: &Frame) -> u64 {
    if !frame.progressive {
        return 0;
    }
    let h_max = frame.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1);
    let v_max = frame.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1);
    frame
        .sampling
        .iter()
        // Blocks are counted by whole MCUs (a component sampled h × v has h × v blocks in each).
        .map(|&(h, v)| frame.width.div_ceil(8 * h_max) * frame.height.div_ceil(8 * v_max) * h * v * 64 * 2)
        .sum()
}

fn photo(bytes: &[u8], format: ImageFormat) -> Result<Processed, Refused> {
    let mut decoder = decoder(bytes, format)?;
    // Phones store photos sideways and say so in EXIF; turn the pixels upright before the
    // EXIF (with its location) is dropped.
    let orientation = decoder.orientation().map_err(|_| Refused::BrokenImage)?;
    let image = DynamicImage::from_decoder(decoder).map_err(|_| Refused::BrokenImage)?;
    // Scale first (by area averaging: no buffer larger than the result), then turn and convert
    // the smaller image; the decoded one is dropped as soon as it is scaled.
    let mut stored = if image.width().max(image.height()) > STORED_SIDE {
        image.thumbnail(STORED_SIDE, STORED_SIDE)
    } else {
        image
    };
    stored.apply_orientation(orientation);
    let rgb = DynamicImage::ImageRgb8(stored.into_rgb8());
    let content = jpeg(&rgb, 85)?;
    // A thumbnail never enlarges a small photo.
    let small = if rgb.width().max(rgb.height()) > THUMB_SIDE {
        rgb.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        rgb.clone()
    };
    let thumbnail = jpeg(&small, 80)?;
    Ok(Processed {
        kind: Kind::Photo,
        width: rgb.width(),
        height: rgb.height(),
        content,
        thumbnail: Some(thumbnail),
    })
}

/// Encodes as a baseline JPEG with no metadata at all.
fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    image.write_with_encoder(encoder).map_err(|_| Refused::BrokenImage)?;
    Ok(out)
}

/// A file name safe to show and to put in `Content-Disposition`: no path, no control
/// characters, at most 100 characters; a fitting extension.
pub fn clean_name(name: &str, kind: Kind) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>')).take(100).collect();
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(&base).trim();
    let stem = if stem.is_empty() { "file" } else { stem };
    let ext = match kind {
        Kind::Photo => "jpg",
        Kind::Pdf => "pdf",
    };
    format!("{stem}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn a_photo_is_re_encoded_as_jpeg_with_a_thumbnail() {
        let p = process(&png(1200, 800)).unwrap();
        assert_eq!(p.kind, Kind::Photo);
        assert!(p.content.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!((p.width, p.height), (1200, 800));
        let thumb = image::load_from_memory(&p.thumbnail.unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 213));
    }

    #[test]
    fn small_photos_are_never_enlarged() {
        let p = process(&png(64, 48)).unwrap();
        let thumb = image::load_from_memory(&p.thumbnail.unwrap()).unwrap();
        assert_eq!((p.width, p.height, thumb.width(), thumb.height()), (64, 48, 64, 48));
    }

    #[test]
    fn large_photos_are_scaled_down() {
        let p = process(&png(4000, 1000)).unwrap();
        assert_eq!((p.width, p.height), (2560, 640));
    }

    #[test]
    fn the_type_comes_from_the_content_not_the_name() {
        assert_eq!(process(b"<html><script>alert(1)</script>").unwrap_err(), Refused::UnsupportedType);
        assert_eq!(process(b"\x00\x00\x00\x18ftypheic").unwrap_err(), Refused::UnsupportedType);
        assert_eq!(process(b"%PDF-1.7\n...").unwrap().kind, Kind::Pdf);
        assert_eq!(process(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap_err(), Refused::BrokenImage);
        assert_eq!(process(b"").unwrap_err(), Refused::Empty);
        assert_eq!(process(&vec![b'%'; MAX_FILE_BYTES + 1]).unwrap_err(), Refused::TooLarge);
    }

    #[test]
    fn an_image_bomb_is_refused_from_its_header_before_decoding() {
        // 300 MB of pixels in a file of a few hundred kilobytes.
        let bomb = crate::testing::png_bomb(10_000, 10_000).unwrap();
        assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
        let started = std::time::Instant::now();
        assert_eq!(memory_needed(&bomb).unwrap_err(), Refused::TooManyPixels);
        assert_eq!(process(&bomb).unwrap_err(), Refused::TooManyPixels);
        // Decoding it would take seconds; reading the header takes nothing.
        assert!(started.elapsed() < std::time::Duration::from_millis(200), "{:?}", started.elapsed());
        assert!(Refused::TooManyPixels.to_string().contains("4000万画素まで"));
        // The same hidden in a JPEG's frame header, within and far beyond the side limits.
        for (w, h) in [(10_000, 10_000), (65_000, 65_000)] {
            let bomb = crate::testing::jpeg_bomb(w, h).unwrap();
            assert_eq!(memory_needed(&bomb).unwrap_err(), Refused::TooManyPixels, "{w} × {h}");
            assert_eq!(process(&bomb).unwrap_err(), Refused::TooManyPixels, "{w} × {h}");
        }
    }

    #[test]
    fn the_memory_a_photo_needs_is_known_before_decoding() {
        let stored = u64::from(STORED_SIDE) * u64::from(STORED_SIDE) * 3;
        assert_eq!(memory_needed(&png(1200, 800)).unwrap(), 1200 * 800 * 3 + stored);
        assert_eq!(memory_needed(b"%PDF-1.7\n...").unwrap(), 0);
        let bomb = crate::testing::png_bomb(6_000, 6_000).unwrap();
        assert_eq!(memory_needed(&bomb).unwrap(), 6_000 * 6_000 * 3 + stored);
        // A progressive JPEG keeps its coefficients too: 2 bytes a sample of each component.
        let jpeg = crate::testing::jpeg_bomb(16, 16).unwrap();
        assert_eq!(memory_needed(&jpeg).unwrap(), 16 * 16 * 3 + stored);
        let progressive = crate::testing::progressive_jpeg_bomb(16, 16, false).unwrap();
        assert_eq!(memory_needed(&progressive).unwrap(), 16 * 16 * 3 + 16 * 16 * 3 * 2 + stored);
        // With the colour halved both ways (4:2:0), the chroma takes a quarter.
        let half = crate::testing::progressive_jpeg_bomb(32, 32, true).unwrap();
        let frame = frame(&half).unwrap();
        assert_eq!((frame.progressive, frame.width, frame.height), (true, 32, 32));
        assert_eq!(frame.sampling, [(2, 2), (1, 1), (1, 1)]);
        assert_eq!(coefficient_bytes(&frame), 32 * 32 * 2 + 2 * 16 * 16 * 2);
    }

    #[test]
    fn a_photo_that_needs_more_than_the_budget_is_refused() {
        // 39 megapixels, under the pixel limit: 117 MB decoded, fine as a baseline JPEG...
        let baseline = crate::testing::jpeg_bomb(7_200, 5_400).unwrap();
        let needed = memory_needed(&baseline).unwrap();
        assert!(needed <= DECODING_BUDGET_BYTES, "{needed}");
        // ...but progressive it needs 233 MB more for its coefficients: refused from the header.
        let progressive = crate::testing::progressive_jpeg_bomb(7_200, 5_400, false).unwrap();
        let refused = memory_needed(&progressive).unwrap_err();
        assert_eq!(refused, Refused::TooMuchMemory { needed_mb: 353 });
        assert_eq!(process(&progressive).unwrap_err(), refused);
        assert!(refused.to_string().contains("上限（160 MB）"), "{refused}");
        // A real one, made of a single DC scan, is read the same way, and decodes.
        let real = crate::testing::progressive_jpeg(7_200, 5_400);
        assert!(real.len() < 300 * 1024, "{} bytes", real.len());
        assert_eq!(memory_needed(&real).unwrap_err(), refused);
        let small = process(&crate::testing::progressive_jpeg(64, 48)).unwrap();
        assert_eq!((small.width, small.height), (64, 48));
        let grey = image::load_from_memory(&small.content).unwrap().to_rgb8();
        assert!(
            grey.pixels().all(|p| p.0.iter().all(|&c| c.abs_diff(128) <= 2)),
            "{:?}",
            grey.get_pixel(0, 0)
        );
        // A smaller progressive photo is fine (12 megapixels, 4:2:0, as a camera makes them).
        let camera = crate::testing::progressive_jpeg_bomb(4_000, 3_000, true).unwrap();
        assert!(memory_needed(&camera).unwrap() <= DECODING_BUDGET_BYTES);
    }

    #[test]
    fn names_lose_paths_and_get_a_true_extension() {
        assert_eq!(clean_name("C:\\photos\\褥瘡.HEIC", Kind::Photo), "褥瘡.jpg");
        assert_eq!(clean_name("../../etc/passwd", Kind::Pdf), "passwd.pdf");
        assert_eq!(clean_name("a\"b<c>.pdf", Kind::Pdf), "abc.pdf");
        assert_eq!(clean_name("", Kind::Photo), "file.jpg");
    }
}

//! What an uploaded file is, decided from its content, and what is kept of it.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest photo side accepted (a 48-megapixel phone photo is 8000 × 6000).
pub const MAX_SIDE: u32 = 10_000;
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

/// Checks and cleans one upload. CPU-heavy for photos: call it off the async runtime.
pub fn process(bytes: &[u8]) -> Result<Processed, Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Refused::TooLarge);
    }
    match sniff(bytes) {
        Some("pdf") => {
            Ok(Processed { kind: Kind::Pdf, content: bytes.to_vec(), thumbnail: None, width: 0, height: 0 })
        }
        Some(format) => photo(bytes, if format == "jpeg" { ImageFormat::Jpeg } else { ImageFormat::Png }),
        _ => Err(Refused::UnsupportedType),
    }
}

fn photo(bytes: &[u8], format: ImageFormat) -> Result<Processed, Refused> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Refused::BrokenImage)?;
    // Phones store photos sideways and say so in EXIF; turn the pixels upright before the
    // EXIF (with its location) is dropped.
    let orientation = decoder.orientation().map_err(|_| Refused::BrokenImage)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| Refused::BrokenImage)?;
    image.apply_orientation(orientation);
    if image.width().max(image.height()) > STORED_SIDE {
        image = image.resize(STORED_SIDE, STORED_SIDE, image::imageops::FilterType::Triangle);
    }
    let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
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
    image.to_rgb8().write_with_encoder(encoder).map_err(|_| Refused::BrokenImage)?;
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
    fn names_lose_paths_and_get_a_true_extension() {
        assert_eq!(clean_name("C:\\photos\\褥瘡.HEIC", Kind::Photo), "褥瘡.jpg");
        assert_eq!(clean_name("../../etc/passwd", Kind::Pdf), "passwd.pdf");
        assert_eq!(clean_name("a\"b<c>.pdf", Kind::Pdf), "abc.pdf");
        assert_eq!(clean_name("", Kind::Photo), "file.jpg");
    }
}

//! For tests: a real S3 server (moto, `pip install 'moto[server]'`) on a free loopback port.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::blobs::S3Settings;

/// A running `moto_server`, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto. `None` (the caller skips) when `moto_server` is not installed, unless
    /// `RENRAKU_TEST_S3=required` (as `.ci/run` sets it): then that is an error.
    pub fn start() -> anyhow::Result<Option<Moto>> {
        let required = std::env::var("RENRAKU_TEST_S3").is_ok_and(|v| v == "required");
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = match Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if !required => {
                eprintln!(
                    "skipped: moto_server not available ({e}); RENRAKU_TEST_S3=required makes this fail"
                );
                return Ok(None);
            }
            Err(e) => return Err(e).context("RENRAKU_TEST_S3=required but moto_server does not start"),
        };
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "moto_server did not start in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Some(moto))
    }

    /// Creates `bucket` (moto accepts an unsigned PUT of the bucket's name).
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        crate::blobs::install_crypto_provider();
        let made = reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send().await?;
        anyhow::ensure!(made.status().is_success(), "bucket not created: {}", made.status());
        Ok(())
    }

    /// Settings for `bucket` on this server, files under `prefix`.
    pub fn settings(&self, bucket: &str, prefix: &str) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            endpoint: self.endpoint.clone(),
            region: "ap-northeast-1".into(),
            access_key_id: "renraku-test".into(),
            secret_access_key: "renraku-test-secret".into(),
            prefix: prefix.into(),
        }
    }
}

/// An image bomb: a single-colour RGB PNG of `width` × `height` pixels. It compresses about a
/// thousandfold (10000 × 10000, 300 MB of pixels, is a file of about 300 KB). Written row by row,
/// so making one takes no memory.
pub fn png_bomb(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    // Every row after the first is zeros once filtered.
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header()?;
    let mut stream = writer.stream_writer()?;
    let row = vec![180u8; width as usize * 3];
    for _ in 0..height {
        stream.write_all(&row)?;
    }
    stream.finish()?;
    writer.finish()?;
    Ok(out)
}

/// A JPEG bomb: a real 16 × 16 JPEG whose frame header (SOF) claims `width` × `height`.
pub fn jpeg_bomb(width: u16, height: u16) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([180, 90, 40]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg)?;
    let sof = out.windows(2).position(|w| w == [0xFF, 0xC0]).context("no SOF0 in the JPEG")?;
    // SOF0: marker, length (2), precision (1), height (2), width (2).
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    Ok(out)
}

/// As [`jpeg_bomb`], its frame header made progressive (SOF2), with the colour at full
/// resolution (4:4:4) or halved both ways (4:2:0, `halved`). Only the header is meant: the
/// decoder would allocate for every coefficient before finding the data short.
pub fn progressive_jpeg_bomb(width: u16, height: u16, halved: bool) -> anyhow::Result<Vec<u8>> {
    let mut out = jpeg_bomb(width, height)?;
    let sof = out.windows(2).position(|w| w == [0xFF, 0xC0]).context("no SOF0 in the JPEG")?;
    out[sof + 1] = 0xC2;
    if halved {
        // The first component's sampling byte: after marker (2), length (2), precision (1),
        // height (2), width (2), count (1) and its id (1).
        out[sof + 11] = 0x22;
    }
    Ok(out)
}

/// A real progressive JPEG (SOF2) of `width` × `height` in one grey, three components at full
/// resolution (4:4:4), with a single DC scan: every block's value is coded in one bit, so 39
/// megapixels fit in about 230 KB, while a decoder keeps 2 bytes a sample for its coefficients.
pub fn progressive_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // One quantisation table of ones.
    out.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0x00]);
    out.extend_from_slice(&[1; 64]);
    // The frame: progressive, 8 bits, three components sampled 1 × 1, table 0.
    out.extend_from_slice(&[0xFF, 0xC2, 0, 17, 8]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
    // A DC Huffman table with one code, "0", for difference category 0 (no change).
    out.extend_from_slice(&[0xFF, 0xC4, 0, 20, 0x00, 1]);
    out.extend_from_slice(&[0; 15]);
    out.push(0);
    // The first DC scan of all three components, interleaved: one MCU is one block of each.
    out.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0x00]);
    let blocks = u64::from(width).div_ceil(8) * u64::from(height).div_ceil(8) * 3;
    let bits = blocks as usize;
    out.extend(std::iter::repeat_n(0u8, bits / 8));
    if !bits.is_multiple_of(8) {
        // The last byte's unused bits are ones.
        out.push(0xFF >> (bits % 8));
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

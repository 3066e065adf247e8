//! Attachments (D4): photos and PDFs added to posts.
//!
//! [`inspect`] decides what a file is from its bytes (never its name or the browser's
//! content type), refuses anything else, re-encodes photos (which drops EXIF, location
//! included) and makes thumbnails — pure functions, no I/O. [`blobs`] stores the results
//! through a [`BlobStore`](blobs::BlobStore): an encrypted local directory by default, or an
//! S3-compatible bucket for several instances.

pub mod blobs;
pub mod inspect;
pub mod testing;

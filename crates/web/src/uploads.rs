//! Forms that may carry files (the post composer). A urlencoded post arrives already parsed by
//! the CSRF guard; a multipart one is read here, with the text fields held to the same strict
//! UTF-8 rule and the files kept as bytes for `renraku_attachments::inspect`.

use axum::extract::{FromRequest, Multipart, Request};

use crate::error::AppError;
use crate::forms::Form;

/// At most this many files per post.
pub const MAX_FILES: usize = 5;

pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A form with up to `MAX` files.
pub struct FormWithFiles<const MAX: usize = MAX_FILES> {
    pub form: Form,
    pub files: Vec<Upload>,
}

impl<S: Send + Sync, const MAX: usize> FromRequest<S> for FormWithFiles<MAX> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(form) = req.extensions().get::<Form>().cloned() {
            return Ok(Self { form, files: vec![] });
        }
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("送信された内容の形式が正しくありません。".into()))?;
        let too_large = |e: axum::extract::multipart::MultipartError| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(crate::MAX_UPLOAD_BYTES)
            } else {
                AppError::BadRequest("送信された内容を最後まで読み取れませんでした。".into())
            }
        };
        let mut pairs: Vec<(String, String)> = vec![];
        let mut files = vec![];
        while let Some(mut field) = multipart.next_field().await.map_err(too_large)? {
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let bytes = field.bytes().await.map_err(too_large)?;
                    if file_name.is_empty() && bytes.is_empty() {
                        continue; // the empty file input of a form sent without files
                    }
                    if files.len() == MAX {
                        return Err(AppError::BadRequest(format!("送信できるファイルは{MAX}個までです。")));
                    }
                    files.push(Upload { name: file_name, bytes: bytes.to_vec() });
                }
                None => {
                    // Read piece by piece: a field over the limit is refused before the rest of
                    // it arrives (and is never shown back).
                    let mut bytes = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(too_large)? {
                        if bytes.len() + chunk.len() > crate::MAX_FIELD_BYTES {
                            return Err(AppError::FieldTooLarge);
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    let value = String::from_utf8(bytes).map_err(|_| {
                        AppError::BadRequest(
                            "送信された文字を読み取れませんでした（文字コードが UTF-8 ではありません）。"
                                .into(),
                        )
                    })?;
                    pairs.push((name, value));
                }
            }
        }
        let form = Form::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(Self { form, files })
    }
}

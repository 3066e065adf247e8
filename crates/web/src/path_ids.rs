//! Ids in a path, parsed into their types before the handler runs: a path parameter that is
//! not a well-formed id (see [`renraku_domain::ids`]) is "not found" at once — the same page as
//! for an id that names nothing — and no query is made with it.
//!
//! A handler takes `IdPath<RoomId>`, or `IdPath<(RoomId, PostId)>` for two parameters, in the
//! order they appear in the path. Put it after the extractor that decides who may use the route,
//! so that someone signed out is still sent to sign in first.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use renraku_store::{
    AccountId, AttachmentId, CareplanSetId, FacilityId, MunicipalityId, PostId, RequestId, RoomId, SessionId,
};

use crate::error::AppError;

/// One path parameter's type: how it is parsed, and what the "not found" page names when it
/// does not parse (what the handler says when the store finds nothing).
pub trait PathParam: Sized {
    const WHAT: &'static str;
    fn parse_param(text: &str) -> Option<Self>;
}

macro_rules! path_param {
    ($($id:ty => $what:literal;)*) => {$(
        impl PathParam for $id {
            const WHAT: &'static str = $what;
            fn parse_param(text: &str) -> Option<Self> {
                <$id>::parse(text)
            }
        }

        impl PathParams for $id {
            fn from_params(values: &[&str]) -> Result<Self, AppError> {
                one(values)
            }
        }
    )*};
}

path_param! {
    RoomId => "部屋";
    PostId => "投稿";
    AttachmentId => "ファイル";
    FacilityId => "事業所";
    AccountId => "利用者";
    MunicipalityId => "市区町村";
    CareplanSetId => "送信単位";
    RequestId => "承認待ちの依頼";
    SessionId => "ログイン中の端末";
}

/// A room member's account in a path (`/admin/rooms/{id}/members/{account}/remove`): not found,
/// it is the 参加者 that is missing.
pub struct MemberAccount(pub AccountId);

impl PathParam for MemberAccount {
    const WHAT: &'static str = "参加者";
    fn parse_param(text: &str) -> Option<Self> {
        AccountId::parse(text).map(MemberAccount)
    }
}

/// A file's place in a care-plan set (`/careplan/sets/{id}/files/{position}`).
impl PathParam for usize {
    const WHAT: &'static str = "ファイル";
    fn parse_param(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// All of a route's path parameters: one, or a pair.
pub trait PathParams: Sized {
    fn from_params(values: &[&str]) -> Result<Self, AppError>;
}

fn one<T: PathParam>(values: &[&str]) -> Result<T, AppError> {
    match values {
        [value] => T::parse_param(value).ok_or(AppError::NotFound(T::WHAT)),
        _ => Err(AppError::NotFound(T::WHAT)),
    }
}

impl<A: PathParam, B: PathParam> PathParams for (A, B) {
    fn from_params(values: &[&str]) -> Result<Self, AppError> {
        match values {
            [a, b] => Ok((
                A::parse_param(a).ok_or(AppError::NotFound(A::WHAT))?,
                B::parse_param(b).ok_or(AppError::NotFound(B::WHAT))?,
            )),
            _ => Err(AppError::NotFound(A::WHAT)),
        }
    }
}

/// The path's parameters, parsed (see the module documentation).
#[derive(Debug, Clone)]
pub struct IdPath<T>(pub T);

impl<T: PathParams, S: Send + Sync> FromRequestParts<S> for IdPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        // Percent-decoding that gives no UTF-8 is no id either.
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("ページ"))?;
        let values: Vec<&str> = params.iter().map(|(_, value)| value).collect();
        T::from_params(&values).map(IdPath)
    }
}

/// One named parameter of the path as the id it must be: for extractors that need one
/// parameter of several (`InRoom` reads the room's `{id}`).
pub fn named<T: PathParam>(params: &RawPathParams, name: &str) -> Result<T, AppError> {
    params
        .iter()
        .find_map(|(n, value)| (n == name).then(|| T::parse_param(value)))
        .flatten()
        .ok_or(AppError::NotFound(T::WHAT))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    const ROOM: &str = "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f";
    const POST: &str = "0193c7a3-0000-7000-8000-000000000000";

    /// A router whose handlers count their runs: a handler that does not run makes no query.
    fn counted() -> (Router, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, b) = (runs.clone(), runs.clone());
        let router = Router::new()
            .route(
                "/rooms/{id}",
                get(move |IdPath(room): IdPath<RoomId>| async move {
                    a.fetch_add(1, Ordering::SeqCst);
                    room.to_string()
                }),
            )
            .route(
                "/rooms/{id}/posts/{post}",
                get(move |IdPath((room, post)): IdPath<(RoomId, PostId)>| async move {
                    b.fetch_add(1, Ordering::SeqCst);
                    format!("{room} {post}")
                }),
            );
        (router, runs)
    }

    async fn status(router: &Router, path: &str) -> StatusCode {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap_or_default();
        router.clone().oneshot(request).await.map(|r| r.status()).unwrap_or(StatusCode::IM_A_TEAPOT)
    }

    #[tokio::test]
    async fn a_malformed_id_is_not_found_before_the_handler_runs() {
        let (router, runs) = counted();
        for path in [
            "/rooms/not-a-uuid",
            "/rooms/0193C7A2-5B1E-7C3D-9F00-1A2B3C4D5E6F",
            "/rooms/%7B0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f%7D",
            "/rooms/1'%20OR%201=1",
            "/rooms/%FF",
            &format!("/rooms/{ROOM}/posts/xyz"),
            &format!("/rooms/zzz/posts/{POST}"),
        ] {
            assert_eq!(status(&router, path).await, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 0, "no handler ran, so nothing was asked of the store");
        assert_eq!(status(&router, &format!("/rooms/{ROOM}")).await, StatusCode::OK);
        assert_eq!(status(&router, &format!("/rooms/{ROOM}/posts/{POST}")).await, StatusCode::OK);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_not_found_page_names_the_thing_that_was_not_found() {
        let err = <(RoomId, PostId)>::from_params(&[ROOM, "xyz"]).err();
        assert!(matches!(err, Some(AppError::NotFound("投稿"))), "{err:?}");
        let err = <(CareplanSetId, usize)>::from_params(&[ROOM, "x"]).err();
        assert!(matches!(err, Some(AppError::NotFound("ファイル"))), "{err:?}");
        assert!(<(CareplanSetId, usize)>::from_params(&[ROOM, "2"]).is_ok());
    }
}

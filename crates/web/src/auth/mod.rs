//! Who is asking. [`load_session`] finds the browser's session (if any) once per request;
//! handlers state who may use them by the extractor they take:
//! [`Partial`] (signed in with a password, second factor pending), [`SignedIn`] (both factors,
//! password not expired), [`Admin`] (a municipality's admin, with that municipality) and
//! [`Operator`].

pub mod password;
pub mod totp;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{AccountStatus, Role};
use renraku_domain::password::PasswordPolicy;
use renraku_store::{Account, AuditDraft, Identity, Municipality, Session, SessionContext, ThrottlePolicy};

use crate::AppState;
use crate::csrf::read_cookie;
use crate::error::AppError;
use crate::secrets::sha256_hex;

/// Five wrong passwords for one login ID within 15 minutes lock it for 15 minutes, whether the
/// ID exists or not, so a lock tells an attacker nothing.
pub const LOGIN_THROTTLE: ThrottlePolicy =
    ThrottlePolicy { max_failures: 5, window_ms: 900_000, lock_ms: 900_000 };
/// One address guessing many IDs is slowed down too.
pub const ADDRESS_THROTTLE: ThrottlePolicy =
    ThrottlePolicy { max_failures: 30, window_ms: 900_000, lock_ms: 900_000 };
/// Five wrong TOTP or recovery codes within a day lock the person's second factor for 15
/// minutes. The count is the identity's own: a right password does not reset it, only a right
/// code (or an admin releasing the lock) does.
pub const SECOND_FACTOR_THROTTLE: ThrottlePolicy =
    ThrottlePolicy { max_failures: 5, window_ms: 86_400_000, lock_ms: 900_000 };

/// The throttle key of an identity's second factor.
/// The throttle key of a login ID (already normalised), whether or not it exists. Wrong
/// passwords count against it wherever a password is checked: at sign-in and when a signed-in
/// person confirms their current password.
pub fn login_key(login: &str) -> String {
    format!("login:{login}")
}

pub fn second_factor_key(identity_id: &str) -> String {
    format!("second_factor:{identity_id}")
}

/// The session's last-seen time is written at most this often, so reading pages does not turn
/// into a write per request.
const TOUCH_INTERVAL_MS: i64 = 30_000;

pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies() { "__Host-renraku_session" } else { "renraku_session" }
}

/// The `Set-Cookie` value for a new session token, or for removing it.
pub fn session_cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    let value = match token {
        Some(t) => format!("{}={t}; Path=/; HttpOnly; SameSite=Lax{secure}", session_cookie_name(state)),
        None => format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}", session_cookie_name(state)),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where a request came from, for the audit trail and throttling.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: String,
    pub user_agent: String,
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let forwarded = state
            .config
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Ok(RequestMeta { ip: forwarded.or(peer).unwrap_or_else(|| "unknown".into()), user_agent })
    }
}

/// The signed-in person behind a request.
#[derive(Debug, Clone)]
pub struct Auth {
    pub session: Session,
    pub account: Account,
    pub identity: Identity,
    pub municipality: Option<Municipality>,
    pub policy: PasswordPolicy,
    pub password_expired: bool,
    /// Care-plan sets sent to the user's facility and waiting for acknowledgement (0 for
    /// users without the exchange).
    pub careplan_waiting: u64,
}

impl Auth {
    /// An audit entry by this person, in their municipality's chain.
    pub fn audit(
        &self,
        meta: &RequestMeta,
        now_ms: i64,
        action: AuditAction,
        object_type: &str,
        object_id: &str,
    ) -> AuditDraft {
        AuditDraft {
            municipality_id: self.account.municipality_id.clone(),
            at_ms: now_ms,
            actor_account_id: Some(self.account.id.clone()),
            actor_login: self.account.login_id.to_string(),
            ip: meta.ip.clone(),
            action,
            object_type: object_type.into(),
            object_id: object_id.into(),
            outcome: "ok".into(),
            detail: String::new(),
        }
    }
}

/// Set when the browser sent a session cookie that no longer opens a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionEnded;

/// Finds the session for the request's cookie. A session whose account was stopped, or whose
/// absolute or idle time ran out, opens nothing.
pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = read_cookie(req.headers(), session_cookie_name(&state)).map(str::to_string);
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        match find(&state, &token).await {
            Ok(Some(auth)) => {
                req.extensions_mut().insert(auth);
            }
            Ok(None) => {
                req.extensions_mut().insert(SessionEnded);
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(req).await
}

async fn find(state: &AppState, token: &str) -> Result<Option<Auth>, AppError> {
    let now = state.clock.now_ms();
    // One query for the four, on every request.
    let Some(SessionContext { session, account, identity, municipality }) =
        state.store.session_context(&sha256_hex(token.as_bytes()), now).await?
    else {
        return Ok(None);
    };
    if account.status != AccountStatus::Active {
        return Ok(None);
    }
    let policy = municipality.as_ref().map(|m| m.settings.password_policy).unwrap_or_default();
    if now - session.last_seen_at_ms > TOUCH_INTERVAL_MS {
        state.store.touch_session(&session.id, now).await?;
    }
    // The menu's count of care-plan sets waiting for this facility's acknowledgement.
    let careplan_waiting = match (&account.facility_id, account.careplan) {
        // The count is the menu's aside: a page does not fail for want of it.
        (Some(facility_id), true) => {
            state.store.careplan_waiting_count(facility_id).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "care-plan waiting count unavailable");
                0
            })
        }
        _ => 0,
    };
    Ok(Some(Auth {
        careplan_waiting,
        password_expired: policy.is_expired(identity.password_changed_at_ms, now),
        session,
        account,
        identity,
        municipality,
        policy,
    }))
}

/// The page to come back to after signing in, if `candidate` may be one: a path on this server
/// (`/…`, never `//…` or `/\…`, which browsers take for another host), not a sign-in page, of
/// printable ASCII (ids and codes only: never names), at most 512 bytes.
pub fn return_path(candidate: &str) -> Option<&str> {
    let local = candidate.starts_with('/') && !candidate.starts_with("//") && !candidate.starts_with("/\\");
    let sign_in = ["/login", "/logout", "/totp"].iter().any(|p| candidate.starts_with(p));
    let plain = candidate.len() <= 512 && candidate.bytes().all(|b| b.is_ascii_graphic());
    (local && !sign_in && plain && candidate != "/").then_some(candidate)
}

/// `path` with `?next=` (URL-encoded) when there is a page to come back to.
pub fn with_return(path: &str, next: Option<&str>) -> String {
    match next {
        Some(next) => {
            let query =
                url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}{query}")
        }
        None => path.to_string(),
    }
}

/// The `next` parameter of a query string, if it may be returned to ([`return_path`]).
pub fn return_path_in_query(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "next")
        .and_then(|(_, v)| return_path(&v).map(str::to_string))
}

/// Where someone without the right session is sent.
pub enum AuthRedirect {
    /// To sign in; `next` is the page they asked for (a GET), to come back to afterwards.
    Login {
        expired: bool,
        next: Option<String>,
    },
    SecondFactor,
    Enrol,
    ChangePassword,
    Forbidden,
}

impl IntoResponse for AuthRedirect {
    fn into_response(self) -> Response {
        let target = match &self {
            AuthRedirect::Login { expired, next } => {
                with_return(if *expired { "/login?expired=1" } else { "/login" }, next.as_deref())
            }
            AuthRedirect::SecondFactor => "/login/totp".into(),
            AuthRedirect::Enrol => "/totp/enrol".into(),
            AuthRedirect::ChangePassword => "/password?expired=1".into(),
            AuthRedirect::Forbidden => {
                return AppError::Forbidden("この画面を利用する権限がありません。").into_response();
            }
        };
        let mut response = Redirect::to(&target).into_response();
        if matches!(self, AuthRedirect::Login { expired: true, .. }) {
            // Forget the dead session cookie.
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

fn auth_of(parts: &Parts) -> Result<Auth, AuthRedirect> {
    parts.extensions.get::<Auth>().cloned().ok_or_else(|| {
        // A page asked for with GET is worth coming back to; a form sent is not.
        let asked = parts.uri.path_and_query().map(|p| p.as_str()).filter(|_| parts.method == Method::GET);
        AuthRedirect::Login {
            expired: parts.extensions.get::<SessionEnded>().is_some(),
            next: asked.and_then(return_path).map(str::to_string),
        }
    })
}

/// Signed in with a password; the second factor may still be missing.
pub struct Partial(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for Partial {
    type Rejection = AuthRedirect;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        auth_of(parts).map(Partial)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Partial {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(auth_of(parts).ok().map(Partial))
    }
}

/// Fully signed in: both factors given. A password past its maximum age must be changed first
/// (only the password page takes [`Partial`] for that reason).
pub struct SignedIn(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AuthRedirect;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let auth = auth_of(parts)?;
        if !auth.session.second_factor_done {
            return Err(if auth.identity.totp_secret.is_some() {
                AuthRedirect::SecondFactor
            } else {
                AuthRedirect::Enrol
            });
        }
        if auth.password_expired {
            return Err(AuthRedirect::ChangePassword);
        }
        Ok(SignedIn(auth))
    }
}

/// A municipality's admin, acting in their own municipality.
pub struct Admin {
    pub auth: Auth,
    pub municipality: Municipality,
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AuthRedirect;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedIn(auth) = SignedIn::from_request_parts(parts, state).await?;
        match (&auth.account.role, &auth.municipality) {
            (Role::Admin, Some(m)) => Ok(Admin { municipality: m.clone(), auth }),
            _ => Err(AuthRedirect::Forbidden),
        }
    }
}

/// The operator of the server.
pub struct Operator(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = AuthRedirect;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedIn(auth) = SignedIn::from_request_parts(parts, state).await?;
        if auth.account.role == Role::Operator { Ok(Operator(auth)) } else { Err(AuthRedirect::Forbidden) }
    }
}

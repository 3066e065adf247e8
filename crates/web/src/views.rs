//! What every page shares: its title, the navigation for who is signed in, and the CSRF token
//! its forms carry. Page structs live beside their routes and hold a [`Chrome`].

use askama::Template;
use axum::response::Html;
use renraku_domain::code_enum::CodeEnum;
use renraku_domain::directory::Role;

use crate::auth::Auth;
use crate::csrf::CsrfToken;
use crate::error::AppError;

pub struct Chrome {
    pub title: String,
    pub csrf: String,
    pub user: Option<NavUser>,
}

pub struct NavUser {
    pub name: String,
    pub role_label: &'static str,
    pub municipality: String,
    pub is_admin: bool,
    pub is_operator: bool,
    /// Uses the care-plan data exchange (ケアプランデータ連携利用者).
    pub careplan: bool,
    /// Care-plan sets waiting for this facility's acknowledgement.
    pub careplan_waiting: u64,
    /// Only the second-factor and password pages are open yet.
    pub limited: bool,
}

impl Chrome {
    pub fn new(title: impl Into<String>, csrf: &CsrfToken, auth: Option<&Auth>) -> Self {
        let user = auth.map(|a| NavUser {
            name: a.account.profile.name.to_string(),
            role_label: a.account.role.label(),
            municipality: a.municipality.as_ref().map(|m| m.name.to_string()).unwrap_or_default(),
            is_admin: a.account.role == Role::Admin,
            is_operator: a.account.role == Role::Operator,
            careplan: a.account.careplan && a.account.facility_id.is_some(),
            careplan_waiting: a.careplan_waiting,
            limited: !a.session.second_factor_done || a.password_expired,
        });
        Self { title: title.into(), csrf: csrf.0.clone(), user }
    }
}

pub fn render(page: impl Template) -> Result<Html<String>, AppError> {
    Ok(Html(page.render()?))
}

/// A `<select>` option.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// Every choice of a closed list, as `<select>` options.
pub fn choices<T: CodeEnum>() -> Vec<Choice> {
    T::all().iter().map(|c| Choice { value: c.code(), label: c.label() }).collect()
}

/// `2026年11月23日 15:04` in JST.
pub fn jst(ms: i64) -> String {
    renraku_domain::time_jp::format_datetime(ms)
}

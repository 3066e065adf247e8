//! The audit trail screens (G1): a municipality's admins see their municipality's chain, the
//! operator sees the server's; both filter it, check its seals and export it as CSV (which is
//! itself recorded).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use renraku_domain::audit::{AuditSealer, ChainBreak, OPERATOR_CHAIN};
use renraku_domain::time_jp::{format_iso_jst, jst_day_start_ms};
use renraku_store::{AuditFilter, AuditRecord};

use crate::AppState;
use crate::auth::{Admin, Auth, Operator, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{FormState, parse_urlencoded};
use crate::views::{Chrome, jst, render};

const PAGE_LIMIT: i64 = 500;
const EXPORT_LIMIT: i64 = 1_000_000;

struct Row {
    seq: i64,
    at: String,
    actor: String,
    ip: String,
    action: String,
    object: String,
    outcome: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    form: FormState,
    rows: Vec<Row>,
    base: &'static str,
    query: String,
    verification: String,
    verified_ok: bool,
    limit: i64,
}

/// The filter from the query string; bad dates are reported next to their field.
fn filter(query: &str, limit: i64) -> (AuditFilter, FormState) {
    let form = parse_urlencoded(query.as_bytes()).unwrap_or_default();
    let mut echo = form.echo();
    let date = |echo: &mut FormState, field: &'static str| -> Option<i64> {
        let v = renraku_domain::text::normalize(form.get(field));
        if v.is_empty() {
            return None;
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match time::Date::parse(&v.replace('/', "-"), format) {
            Ok(d) => Some(jst_day_start_ms(d)),
            Err(_) => {
                echo.error(renraku_domain::FieldError::new(
                    field,
                    "日付は 2026-11-23 の形で入力してください。",
                ));
                None
            }
        }
    };
    let from_ms = date(&mut echo, "from");
    let until_ms = date(&mut echo, "until").map(|d| d + 86_400_000);
    let text = |name: &str| Some(form.get(name).trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        from_ms,
        until_ms,
        actor_login: text("actor").map(|a| renraku_domain::text::normalize(&a).to_ascii_lowercase()),
        action_prefix: text("action"),
        limit,
    };
    (filter, echo)
}

fn row(r: AuditRecord) -> Row {
    let f = r.facts;
    Row {
        seq: f.seq,
        at: jst(f.at_ms),
        actor: f.actor_login,
        ip: f.ip,
        action: f.action,
        object: if f.object_id.is_empty() {
            f.object_type
        } else {
            format!("{} {}", f.object_type, f.object_id)
        },
        outcome: f.outcome,
        detail: f.detail,
    }
}

/// Checks the whole chain and says so in Japanese.
pub fn describe_verification(sealer: &AuditSealer, chain: &[AuditRecord]) -> (bool, String) {
    match sealer.verify(chain.iter().map(|r| (&r.facts, r.seal.as_str()))) {
        Ok(n) => (true, format!("改ざんは検出されませんでした（{n}件を検証）。")),
        Err(ChainBreak::Altered { seq }) => (false, format!("連番 {seq} の記録が改ざんされています。")),
        Err(ChainBreak::Gap { expected, found }) => {
            (false, format!("連番 {expected} の記録が失われています（次に見つかったのは連番 {found}）。"))
        }
    }
}

async fn page(
    state: &AppState,
    csrf: &CsrfToken,
    auth: &Auth,
    chain: &str,
    base: &'static str,
    query: Option<String>,
) -> Result<Response, AppError> {
    let query = query.unwrap_or_default();
    let (filter, form) = filter(&query, PAGE_LIMIT);
    let rows = state.store.audit_entries(chain, &filter).await?.into_iter().map(row).collect();
    let (verified_ok, verification) = if query.contains("verify=1") {
        let all = state.store.audit_chain(chain).await?;
        describe_verification(&AuditSealer::new(&state.secrets.audit_key), &all)
    } else {
        (true, String::new())
    };
    let export_query = query.split('&').filter(|p| !p.starts_with("verify=")).collect::<Vec<_>>().join("&");
    let page = AuditPage {
        chrome: Chrome::new("操作記録（監査ログ）", csrf, Some(auth)),
        form,
        rows,
        base,
        query: export_query,
        verification,
        verified_ok,
        limit: PAGE_LIMIT,
    };
    Ok(render(page)?.into_response())
}

async fn csv(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    chain: &str,
    query: Option<String>,
) -> Result<Response, AppError> {
    let (filter, _) = filter(&query.unwrap_or_default(), EXPORT_LIMIT);
    let records = state.store.audit_entries(chain, &filter).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "連番",
        "日時",
        "操作者",
        "操作者アカウントID",
        "接続元",
        "操作",
        "対象種別",
        "対象ID",
        "結果",
        "詳細",
        "封印",
    ];
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    out.write_record(header).map_err(csv_err)?;
    for r in &records {
        let f = &r.facts;
        out.write_record([
            f.seq.to_string().as_str(),
            &format_iso_jst(f.at_ms),
            &f.actor_login,
            f.actor_account_id.as_deref().unwrap_or(""),
            &f.ip,
            &f.action,
            &f.object_type,
            &f.object_id,
            &f.outcome,
            &f.detail,
            &r.seal,
        ])
        .map_err(csv_err)?;
    }
    let body = out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let now = state.clock.now_ms();
    let mut audit = auth.audit(meta, now, "audit.export", "audit_log", chain);
    audit.detail = format!("rows={}", records.len());
    state.store.append_audit(&audit).await?;
    // A byte-order mark, so that Excel opens the UTF-8 file with the right encoding.
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(&body);
    let name = format!("attachment; filename=\"audit-{}.csv\"", &format_iso_jst(now)[..10]);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)],
        bytes,
    )
        .into_response())
}

pub async fn admin_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    page(&state, &csrf, &admin.auth, &admin.municipality.id, "/admin/audit", query).await
}

pub async fn admin_csv(
    State(state): State<AppState>,
    meta: RequestMeta,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    csv(&state, &meta, &admin.auth, &admin.municipality.id, query).await
}

pub async fn operator_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Operator(auth): Operator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    page(&state, &csrf, &auth, OPERATOR_CHAIN, "/operator/audit", query).await
}

pub async fn operator_csv(
    State(state): State<AppState>,
    meta: RequestMeta,
    Operator(auth): Operator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    csv(&state, &meta, &auth, OPERATOR_CHAIN, query).await
}

//! The audit trail screens (G1): a municipality's admins see their municipality's chain, the
//! operator sees the server's; both filter it, check its seals and export it as CSV (which is
//! itself recorded).

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::BTreeMap;

use renraku_domain::audit::{AuditSealer, OPERATOR_CHAIN};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::time_jp::{format_iso_jst, jst_day_start_ms};
use renraku_store::{AuditFilter, AuditRecord};

use crate::AppState;
use crate::audit_trail::{Anchors, ChainReport, Scope, TrailReport, verify_trail};
use crate::auth::{Admin, Auth, Operator, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{FormState, parse_urlencoded};
use crate::views::{Chrome, jst, render};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator/audit", get(operator_page))
        .route("/operator/audit.csv", get(operator_csv))
        .route("/admin/audit", get(admin_page))
        .route("/admin/audit.csv", get(admin_csv))
}

const PAGE_LIMIT: i64 = 500;
const EXPORT_LIMIT: i64 = 1_000_000;

struct Row {
    seq: i64,
    at: String,
    actor: String,
    ip: String,
    /// The stable code, searched by the filter and exported in the CSV.
    action: String,
    /// What the code means, in Japanese (empty for a code this version does not know).
    label: &'static str,
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
    findings: Vec<String>,
    /// What the latest checkpoint covers.
    anchor: String,
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
        label: AuditAction::from_code(&f.action).map(AuditAction::label).unwrap_or(""),
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

/// The verdict of [`verify_trail`] in the words of the audit screen: a headline, each finding
/// (named by its municipality where it is not the screen's own chain), and what the latest
/// checkpoint covers.
pub fn describe_verification(
    report: &TrailReport,
    own_chain: &str,
    names: &BTreeMap<String, String>,
) -> (bool, String, Vec<String>, String) {
    let mut findings: Vec<String> = report.anchor_findings.iter().map(|f| f.japanese()).collect();
    for chain in &report.chains {
        for f in &chain.findings {
            if chain.chain == own_chain {
                findings.push(f.japanese());
            } else {
                let name = match names.get(&chain.chain) {
                    Some(name) => name.clone(),
                    None if chain.chain == OPERATOR_CHAIN => "サーバー全体".into(),
                    None => format!("削除された市区町村（{}）", chain.chain),
                };
                findings.push(format!("{name}: {}", f.japanese()));
            }
        }
    }
    let entries: u64 = report.chains.iter().map(|c| c.entries).sum();
    let headline = if findings.is_empty() {
        format!("改ざんは検出されませんでした（{entries}件を検証）。")
    } else {
        "操作記録の改ざんまたは削除が検出されました。".to_string()
    };
    let anchor = match (&report.checkpoint, report.chains.iter().find(|c| c.chain == own_chain)) {
        (Some(c), Some(ChainReport { anchored_seq: Some(seq), .. })) => format!(
            "最新のチェックポイント（{}）で連番 {seq} までを照合しました。それより後の記録の削除は、次のチェックポイントから検出できます。",
            jst(c.at_ms)
        ),
        (Some(c), _) => format!("最新のチェックポイント（{}）にはこの記録がまだ含まれていません。", jst(c.at_ms)),
        (None, _) => "チェックポイントがまだありません。末尾の記録の削除は、データベースを書き換えられる人には隠せます。".into(),
    };
    (findings.is_empty(), headline, findings, anchor)
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
    let (verified_ok, verification, findings, anchor) = if query.contains("verify=1") {
        // The operator answers for the whole server: every chain, and chains that vanished.
        let scope = if chain == OPERATOR_CHAIN { Scope::All } else { Scope::Chain(chain) };
        let sealer = AuditSealer::new(&state.secrets.audit_key);
        let report = verify_trail(state.store.as_ref(), &sealer, &Anchors::of(state), scope).await?;
        let names = state
            .store
            .municipalities()
            .await?
            .into_iter()
            .map(|m| (m.id.to_string(), m.name.to_string()))
            .collect();
        describe_verification(&report, chain, &names)
    } else {
        (true, String::new(), vec![], String::new())
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
        findings,
        anchor,
        limit: PAGE_LIMIT,
    };
    Ok(render(page)?.into_response())
}

/// A CSV cell a spreadsheet will not run: one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (which Excel and LibreOffice read as a formula — a sign-in attempt with the
/// login ID `=HYPERLINK(…)` would otherwise become one in the admin's export) gets a leading `'`
/// (OWASP's rule for CSV injection). Every CSV the server writes goes through here.
pub(crate) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
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
        let (seq, at) = (f.seq.to_string(), format_iso_jst(f.at_ms));
        let cells = [
            seq.as_str(),
            &at,
            &f.actor_login,
            f.actor_account_id.as_deref().unwrap_or(""),
            &f.ip,
            &f.action,
            &f.object_type,
            &f.object_id,
            &f.outcome,
            &f.detail,
            &r.seal,
        ]
        .map(spreadsheet_safe);
        out.write_record(cells.iter().map(|c| c.as_ref())).map_err(csv_err)?;
    }
    let body = out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let now = state.clock.now_ms();
    let mut audit = auth.audit(meta, now, AuditAction::AuditExport, "audit_log", chain);
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

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn cells_a_spreadsheet_would_read_as_formulas_get_a_quote() {
        for cell in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        for cell in ["", "admin01", "2026-12-01T09:00:00+09:00", "1-2", "a=b", "'"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }
}

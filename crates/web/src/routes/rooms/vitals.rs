//! A room's vital signs as charts and a table, for a period chosen with `?period=` (links, no
//! JavaScript).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use renraku_domain::rooms::{VITALS, format_scaled};

use super::InRoom;
use crate::AppState;
use crate::auth::RequestMeta;
use crate::charts::VitalsChart;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::services::posts::{VitalsPeriod, read_vitals};
use crate::views::{Chrome, jst, render};
use renraku_domain::ids::RoomId;

#[derive(Template)]
#[template(path = "rooms/vitals.html")]
struct VitalsPage {
    chrome: Chrome,
    room_id: RoomId,
    period: VitalsPeriod,
    periods: [VitalsPeriod; 3],
    from: String,
    to: String,
    charts: Vec<VitalsChart>,
    rows: Vec<(String, Vec<String>)>,
    headers: Vec<String>,
}

/// The period a query names (`period=week`); none, or one not known, is the default month.
fn period_of(query: Option<String>) -> VitalsPeriod {
    query
        .and_then(|q| crate::forms::parse_urlencoded(q.as_bytes()).ok())
        .map(|form| VitalsPeriod::parse(form.get("period")))
        .unwrap_or_default()
}

pub async fn vitals(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let period = period_of(query);
    let reading = read_vitals(&state, &meta, &auth, &access, period).await?;
    let charts = crate::charts::vitals_charts(&reading.points, reading.from_ms, reading.to_ms);
    let headers = VITALS.iter().map(|v| format!("{}（{}）", v.label, v.unit)).collect();
    let rows = reading
        .points
        .iter()
        .rev()
        .map(|p| {
            let cells = VITALS
                .iter()
                .zip(p.vitals.values())
                .map(|(spec, v)| v.map(|x| format_scaled(x, spec.decimals)).unwrap_or_default())
                .collect();
            (jst(p.at_ms), cells)
        })
        .collect();
    let page = VitalsPage {
        chrome: Chrome::new(format!("{} バイタル", access.room().name), &csrf, Some(&auth)),
        room_id,
        period,
        periods: VitalsPeriod::ALL,
        from: jst(reading.from_ms),
        to: jst(reading.to_ms),
        charts,
        rows,
        headers,
    };
    Ok(render(page)?.into_response())
}

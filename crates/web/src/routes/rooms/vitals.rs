//! A room's vital signs as charts and a table.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use renraku_domain::rooms::{VITALS, format_scaled};

use super::InRoom;
use crate::AppState;
use crate::auth::RequestMeta;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::services::posts::read_vitals;
use crate::views::{Chrome, jst, render};
use renraku_domain::ids::RoomId;

#[derive(Template)]
#[template(path = "rooms/vitals.html")]
struct VitalsPage {
    chrome: Chrome,
    room_id: RoomId,
    charts: Vec<(&'static str, String)>,
    rows: Vec<(String, Vec<String>)>,
    headers: Vec<String>,
}

pub async fn vitals(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let points = read_vitals(&state, &meta, &auth, &access).await?;
    let charts = crate::charts::vitals_charts(&points);
    let headers = VITALS.iter().map(|v| format!("{}（{}）", v.label, v.unit)).collect();
    let rows = points
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
        charts,
        rows,
        headers,
    };
    Ok(render(page)?.into_response())
}

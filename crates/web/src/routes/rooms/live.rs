//! Live updates of one open room over Server-Sent Events.

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use renraku_store::ANNOUNCE_EVERY_ROOM;
use tokio::sync::broadcast;

use super::InRoom;
use crate::AppState;
use crate::error::AppError;

/// Server-Sent Events for one open room: `update` whenever it changes. Membership is checked
/// when the stream opens, again before each event and at least every minute; a member who leaves
/// stops hearing at once.
pub async fn events(
    State(state): State<AppState>,
    InRoom { auth, access, room_id }: InRoom,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, AppError> {
    let slot = state.events.open_stream(&auth.session.id).ok_or(AppError::TooManyStreams)?;
    let receiver = state.events.subscribe();
    // A page that connects after something changed hears about it at once.
    let since = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("since=")))
        .and_then(|v| v.parse::<i64>().ok());
    let missed = match since {
        Some(since) => state.store.changed_since(&access, since).await?,
        None => false,
    };
    let account = (auth.account.id.clone(), auth.session.identity_id.clone(), auth.session.id.clone());
    // The stream holds its place in the session's share until it ends, and ends at shutdown.
    let closing = Box::pin(state.events.closing());
    let stream = futures_util::stream::unfold(
        (receiver, state, account, room_id, missed, (slot, closing)),
        |(mut rx, state, account, room, missed, mut held)| async move {
            let update = |room: &str| Event::default().event("update").data(room);
            if missed {
                let event = update(&room);
                return Some((Ok(event), (rx, state, account, room, false, held)));
            }
            loop {
                let next = tokio::select! {
                    () = &mut held.1 => return None,
                    next = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()) => next,
                };
                // Still a member, and still signed in: a sign-out or a revoked session ends the
                // stream as surely as leaving the room. `None` when the database cannot say
                // (an outage): nothing is sent, and the stream waits to ask again.
                let still_member = || async {
                    let (account, identity, session) = &account;
                    let now = state.clock.now_ms();
                    let member = match state.store.authorize_room(account, &room).await {
                        Ok(access) => access.is_some(),
                        Err(_) => return None,
                    };
                    match state.store.sessions_of_identity(identity, now).await {
                        Ok(live) => Some(member && live.iter().any(|s| s.id == *session)),
                        Err(_) => None,
                    }
                };
                match next {
                    Ok(Ok(changed)) if changed != room.as_str() && changed != ANNOUNCE_EVERY_ROOM => continue,
                    Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => match still_member().await
                    {
                        Some(true) => {
                            let event = update(&room);
                            return Some((Ok(event), (rx, state, account, room, false, held)));
                        }
                        Some(false) => return None,
                        None => continue,
                    },
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                    Err(_) => match still_member().await {
                        Some(false) => return None,
                        Some(true) | None => continue,
                    },
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

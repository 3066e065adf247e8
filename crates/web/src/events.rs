//! Live updates (E4). When a room changes (a post, an edit, a receipt), every open page of that
//! room is told "room X changed" over Server-Sent Events and fetches its timeline again through
//! the ordinary, authorised page. The events carry only the room id, never content.
//!
//! On PostgreSQL the news travels through `NOTIFY`, so every app instance hears about changes
//! made on the others; on SQLite (one instance) it stays in this process. The forwarder from
//! the database to this process's streams restarts, with backoff, whenever the database's
//! announcements stop (an outage), and after a restart tells every stream to refresh, since
//! changes made meanwhile were not announced.
//!
//! A session may keep [`MAX_STREAMS_PER_SESSION`] streams open; at shutdown every stream ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use renraku_domain::ids::RoomId;
use renraku_store::{ANNOUNCE_EVERY_ROOM, Store};
use tokio::sync::{broadcast, watch};

/// Open live-update streams per session: a few tabs, not a flood of connections.
pub const MAX_STREAMS_PER_SESSION: usize = 4;

/// The forwarder's wait before listening again after the database went away: doubling from
/// the first to the last value, and then every [`RETRY_MAX`] for as long as it takes.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<String>,
    store: Arc<dyn Store>,
    /// Becomes true when the server shuts down; every stream ends.
    closing: Arc<watch::Sender<bool>>,
    /// Open streams per session id.
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Events {
    /// Starts listening for other instances' announcements, where there are any.
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let (tx, _) = broadcast::channel(1024);
        if let Some(announcements) = store.announcements().await? {
            tokio::spawn(forward(store.clone(), announcements, tx.clone()));
        }
        let (closing, _) = watch::channel(false);
        Ok(Self { tx, store, closing: Arc::new(closing), open: Arc::default() })
    }

    /// Tells every open page of `room_id`, on every instance, that it changed.
    pub async fn room_changed(&self, room_id: &RoomId) {
        match self.store.announce(room_id).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = self.tx.send(room_id.to_string());
            }
            Err(e) => {
                tracing::warn!(error = %e, "announcing a room change failed; telling this instance only");
                let _ = self.tx.send(room_id.to_string());
            }
        }
    }

    /// The room changes, as room ids; [`ANNOUNCE_EVERY_ROOM`] means "any room may have changed".
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }

    /// A place for one more stream of `session_id`, or `None` when it has its share open.
    /// The place is given back when the returned value is dropped (the stream ended).
    pub fn open_stream(&self, session_id: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(session_id.to_string()).or_default();
        if *count >= MAX_STREAMS_PER_SESSION {
            return None;
        }
        *count += 1;
        Some(StreamSlot { session_id: session_id.to_string(), open: self.open.clone() })
    }

    /// Completes when the server is shutting down.
    pub fn closing(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.closing.subscribe();
        async move {
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    /// Ends every open stream (the server is shutting down).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// One open stream's place in its session's share.
pub struct StreamSlot {
    session_id: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.session_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.session_id);
            }
        }
    }
}

/// Passes the database's announcements on to this process's streams, for ever: when they stop
/// (the database went away for longer than the listener's own reconnection tries), listens
/// again with growing pauses, and once it hears again tells every stream to refresh.
async fn forward(
    store: Arc<dyn Store>,
    mut announcements: renraku_store::Announcements,
    tx: broadcast::Sender<String>,
) {
    loop {
        while let Some(room) = announcements.next().await {
            let _ = tx.send(room);
        }
        tracing::warn!("live updates: the database stopped announcing changes; listening again");
        let mut pause = RETRY_FIRST;
        announcements = loop {
            tokio::time::sleep(pause).await;
            match store.announcements().await {
                Ok(Some(stream)) => break stream,
                Ok(None) => return,
                Err(e) => {
                    pause = (pause * 2).min(RETRY_MAX);
                    tracing::warn!(error = %e, "live updates: cannot listen yet; trying again in {pause:?}");
                }
            }
        };
        tracing::info!("live updates: listening again");
        let _ = tx.send(ANNOUNCE_EVERY_ROOM.to_string());
    }
}

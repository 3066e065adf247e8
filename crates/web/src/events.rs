//! Live updates (E4). When a room changes (a post, an edit, a receipt), every open page of that
//! room is told "room X changed" over Server-Sent Events and fetches its timeline again through
//! the ordinary, authorised page. The events carry only the room id, never content.
//!
//! On PostgreSQL the news travels through `NOTIFY`, so every app instance hears about changes
//! made on the others; on SQLite (one instance) it stays in this process.

use std::sync::Arc;

use futures_util::StreamExt as _;
use renraku_store::Store;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<String>,
    store: Arc<dyn Store>,
}

impl Events {
    /// Starts listening for other instances' announcements, where there are any.
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let (tx, _) = broadcast::channel(1024);
        if let Some(mut announcements) = store.announcements().await? {
            let forward = tx.clone();
            tokio::spawn(async move {
                while let Some(room) = announcements.next().await {
                    let _ = forward.send(room);
                }
            });
        }
        Ok(Self { tx, store })
    }

    /// Tells every open page of `room_id`, on every instance, that it changed.
    pub async fn room_changed(&self, room_id: &str) {
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

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }
}

//! The application assembled in one place: `renraku serve`, the command line and the test
//! harness all build it with [`App::build`], so the state a request sees is the same everywhere.
//! Work the running server does beside answering requests starts in [`App::spawn_background`].

use std::sync::Arc;

use axum::Router;
use renraku_attachments::blobs::BlobStore;
use renraku_store::Store;

use crate::{AppState, Clock, Events, Secrets, WebConfig, audit_trail, jobs};

/// What the application is built from: an opened store and attachment store, how the server is
/// reached, and the keys (the caller derived them already, to open the stores).
pub struct AppParts {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub config: WebConfig,
    pub secrets: Secrets,
    pub clock: Clock,
}

/// The application: its shared state, from which the router is made.
#[derive(Clone)]
pub struct App {
    pub state: AppState,
}

impl App {
    /// Starts listening for other instances' live updates.
    pub async fn build(parts: AppParts) -> anyhow::Result<App> {
        let AppParts { store, blobs, config, secrets, clock } = parts;
        let state = AppState {
            events: Events::start(store.clone()).await?,
            store,
            blobs,
            config: Arc::new(config),
            secrets: Arc::new(secrets),
            clock,
            writer_probe: Default::default(),
            recent_views: Default::default(),
        };
        Ok(App { state })
    }

    /// The whole application as one axum router.
    pub fn router(&self) -> Router {
        crate::routes::router(self.state.clone())
    }

    /// Starts the server's periodic work; the returned [`Background`] stops it. New background
    /// work (e.g. a job worker) is started here, so the server and the tests that ask for it
    /// run the same tasks.
    pub fn spawn_background(&self) -> Background {
        Background {
            tasks: vec![
                // Checkpoints of the audit trail, outside the database: every minute when a
                // chain moved (and once more on the way out, in `Background::stop`).
                audit_trail::spawn_checkpoints(self.state.clone()),
            ],
            // The job queue's worker: removal of unused attachment files, and the hourly sweep
            // of files no post refers to (a post whose write had an unknown outcome).
            jobs: jobs::spawn(self.state.clone()),
            state: self.state.clone(),
        }
    }
}

/// The running background tasks of an [`App`].
pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    jobs: jobs::Worker,
    state: AppState,
}

impl Background {
    /// Stops every task (the job worker finishes the job in hand), then writes the last audit
    /// checkpoint.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.jobs.stop().await;
        audit_trail::log_outcome(audit_trail::checkpoint_now(&self.state, false).await);
    }
}

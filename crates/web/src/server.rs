//! The HTTP server around the router: accepts connections, closes the ones that dawdle, and
//! shuts down promptly. axum's own `serve` sets no timeouts, so a client that sends half a
//! request head and waits (slowloris) holds a connection for ever; this loop gives each
//! connection hyper's header-read timeout and stops waiting for stragglers at shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::App;

/// How long a client has to send a complete request head: on a new connection, and between
/// requests on a kept-alive one (so it is also the idle timeout). Long-lived answers (live
/// updates) are not affected: the timer runs only while the server waits for a request.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for requests in progress before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the application on `listener` until SIGTERM or Ctrl-C.
pub async fn serve(listener: TcpListener, app: &App) -> std::io::Result<()> {
    serve_until(listener, app, shutdown_signal()).await
}

/// Serves the application until `shutdown` completes; then stops accepting, ends the open
/// live-update streams and returns once the requests in progress are done (at most
/// [`SHUTDOWN_GRACE`] later).
pub async fn serve_until(
    listener: TcpListener,
    app: &App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let events = app.state.events.clone();
    serve_router(listener, app.router(), async move {
        shutdown.await;
        events.close();
    })
    .await
}

/// Serves `/metrics` (Prometheus) alone, for the `metrics_listen` address, until SIGTERM or
/// Ctrl-C.
pub async fn serve_metrics(listener: TcpListener) -> std::io::Result<()> {
    serve_router(listener, crate::routes::metrics_router(), shutdown_signal()).await
}

async fn serve_router(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in progress after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

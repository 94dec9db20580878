//! The application assembled: the middleware stack around the routes, the background work
//! `crm serve` runs, and the server with its graceful shutdown. The composition root: it may
//! use every module, and no module uses it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::services::delivery::{DeliveryWorker, Settings};
use crate::web;
pub use crate::web::AppState;

/// What `crm serve` runs besides answering requests: the hourly clean-up, the client import,
/// media and delivery workers, the staff notifier, and the event relay between nodes.
pub struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    housekeeping: tokio::task::JoinHandle<()>,
    notifier: tokio::task::JoinHandle<()>,
    relay: Vec<tokio::task::JoinHandle<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub fn start(state: &AppState) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let housekeeping = crate::services::housekeeping::spawn(
            state.auth.clone(),
            state.clients.clone(),
            state.imports.clone(),
            state.custom_fields.clone(),
            Duration::from_secs(3600),
        );
        let delivery = DeliveryWorker::new(
            state.pool.clone(),
            state.events.clone(),
            state.providers.clone(),
            (state.files.clone(), state.media_links()),
            Settings::default(),
        );
        let media = crate::services::media::MediaWorker::new(
            state.pool.clone(),
            state.events.clone(),
            state.channels.clone(),
            state.files.clone(),
        );
        let workers = vec![
            state.imports.spawn_worker(stopped.clone()),
            media.spawn(stopped.clone()),
            state.chats.spawn_snooze_waker(Duration::from_secs(1), stopped.clone()),
            state.tasks.spawn_task_clock(Duration::from_secs(1), stopped.clone()),
            state.bulk.spawn_worker(stopped.clone()),
            crate::services::notifications::TelegramDelivery::new(state.pool.clone(), state.channels.clone())
                .spawn(Duration::from_secs(1), stopped.clone()),
            delivery.spawn(stopped),
        ];
        let notifier = crate::services::staff_notifier::spawn_staff_notifier(
            &state.events,
            state.chats.clone(),
            state.channels.clone(),
        );
        let relay = crate::events::relay::spawn(&state.events, state.pool.clone());
        Self { stop, housekeeping, notifier, relay, workers }
    }

    /// Asks the workers to stop after the step in hand (an import hands its run back to the
    /// queue) and waits for them, at most `grace`.
    pub async fn stop(self, grace: Duration) {
        self.housekeeping.abort();
        self.notifier.abort();
        self.relay.iter().for_each(|task| task.abort());
        let _ = self.stop.send(true);
        for worker in self.workers {
            let abort = worker.abort_handle();
            if tokio::time::timeout(grace, worker).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// The routes wrapped in the middleware stack. Outermost first: request id, log line and
/// metrics; security headers; error rendering (so a panic, a time-out or a refused body gets
/// a proper page or JSON error too); panics to 500; time-out (not for `web::streams`, which are
/// GETs and so need no CSRF check either); CSRF; text with NUL characters refused; flash
/// clean-up. Body limits are per route (`web::router`).
pub fn build(state: AppState) -> Router {
    web::router()
        .layer(middleware::from_fn(web::flash::clear_after_display))
        .layer(middleware::from_fn(web::input::reject_nul))
        .layer(middleware::from_fn_with_state(state.clone(), web::auth::csrf_guard))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .merge(web::streams())
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), web::error::render))
        .layer(middleware::from_fn(web::ops::security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), web::ops::observe))
        .with_state(state)
}

/// How long a client may take to send a request's head (line and headers) once it has
/// connected, or between requests on a kept-alive connection. Past it the connection is closed:
/// a client dribbling bytes (slow-loris) holds nothing for long.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After `shutdown`, how long requests in flight (and live streams) have to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish (at most
/// `SHUTDOWN_GRACE`). Each connection is HTTP/1.1 through hyper, whose request heads must
/// arrive within `HEADER_READ_TIMEOUT` (axum's own `serve` sets no such limit).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, build(state), shutdown).await
}

/// Serves `router` as `serve` serves the application (the metrics address uses it too).
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tower::{Service, ServiceExt};

    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    // Connections hold `draining`'s sender and `open`'s receiver: dropping `drain` tells them to
    // finish, and `open` closes when the last of them has.
    let (draining, drain) = tokio::sync::watch::channel(());
    let (open, open_rx) = tokio::sync::watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
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
        let Ok(router) = make_service.call(remote).await;
        let service = hyper_util::service::TowerToHyperService::new(
            router.map_request(|req: axum::http::Request<hyper::body::Incoming>| req.map(axum::body::Body::new)),
        );
        let (draining, open_rx) = (draining.clone(), open_rx.clone());
        tokio::spawn(async move {
            // A connection that never sends a byte is dropped as one that sends its head slowly.
            if tokio::time::timeout(HEADER_READ_TIMEOUT, stream.readable()).await.is_err() {
                return;
            }
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stop = draining.closed();
            tokio::pin!(stop);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut stop, if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(open_rx);
        });
    }
    drop(drain);
    drop(open_rx);
    if tokio::time::timeout(SHUTDOWN_GRACE, open.closed()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

//! `stt serve`: the HTTP API. Start-up reads top to bottom in [`serve`]: bind, answer
//! liveness at once, load and warm the model on a blocking thread, turn ready, serve
//! until SIGTERM/SIGINT, then drain in-flight requests within a grace period.
//!
//! Layers: routes parse the request and render the answer; [`job`] is the one path to
//! the engine, through the [`crate::scheduler`]; [`errors`] maps every failure to a
//! status in one table. No handler touches a tensor or blocks a runtime thread.

pub mod errors;
pub mod job;
pub mod metrics;
mod routes_contract;
mod routes_openai;
pub mod upload;

use crate::scheduler::{Admission, Scheduler, SchedulerConfig};
use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use errors::{ApiError, ContractError, ErrorDetail, OpenAiError};
use metrics::{Metrics, SchedulerGauges};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use stt_engine::decoding::transcribe_pcm_with;
use stt_engine::{Hooks, TranscribeOptions, WhisperModel};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::{error, info, info_span, warn, Level};

/// Everything `stt serve` is configured with (CLI flags and environment).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub host: String,
    pub port: u16,
    pub model: Option<String>,
    pub scheduler: SchedulerConfig,
    pub limits: Limits,
    pub shutdown_grace: Duration,
    pub environment: String,
}

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_duration_s: f64,
    /// From admission to answer, queue time included.
    pub request_timeout: Duration,
    /// Longest silence of an upload's body while it is read.
    pub upload_idle: Duration,
}

/// The loaded model behind its scheduler; exists once the model is warm.
pub struct Engine {
    pub scheduler: Scheduler<WhisperModel>,
    pub model_name: String,
    pub multilingual: bool,
}

pub struct AppState {
    pub limits: Limits,
    pub metrics: Metrics,
    environment: String,
    engine: OnceLock<Arc<Engine>>,
    draining: AtomicBool,
}

impl AppState {
    pub fn new(limits: Limits, environment: String) -> Self {
        Self {
            limits,
            metrics: Metrics::new(),
            environment,
            engine: OnceLock::new(),
            draining: AtomicBool::new(false),
        }
    }

    /// The engine, if the server takes work now.
    pub fn engine(&self) -> Result<&Arc<Engine>, ApiError> {
        if self.draining.load(Ordering::Relaxed) {
            return Err(ApiError::Draining);
        }
        self.engine.get().ok_or(ApiError::NotReady)
    }

    /// The engine for a request admitted earlier: draining does not stop those.
    pub fn admitted_engine(&self) -> Result<&Arc<Engine>, ApiError> {
        self.engine.get().ok_or(ApiError::NotReady)
    }

    /// A place in the scheduler, or the reason there is none (503 + Retry-After).
    pub fn admit(&self) -> Result<Admission, ApiError> {
        let engine = self.engine()?;
        engine.scheduler.try_admit().map_err(|e| {
            self.metrics.job_failed(&e);
            ApiError::from_job(
                e,
                self.limits.request_timeout.as_secs(),
                engine.scheduler.retry_after_s(),
            )
        })
    }

    fn set_engine(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
        self.metrics.set_ready(true);
    }

    fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.metrics.set_ready(false);
    }
}

type SharedState = Arc<AppState>;

/// The whole HTTP surface.
pub fn router(state: SharedState) -> Router {
    // Uploads are limited while streaming (see `upload`), not by axum's 2 MB default.
    let transcription_routes = Router::new()
        .route("/transcriptions", post(routes_contract::transcribe))
        .route(
            "/transcriptions/process-isolated",
            post(routes_contract::transcribe),
        )
        .route("/transcriptions/fast", post(routes_contract::transcribe))
        .route("/transcriptions/hybrid", post(routes_contract::transcribe))
        .route(
            "/v1/audio/transcriptions",
            post(routes_openai::transcriptions),
        )
        .route("/v1/audio/translations", post(routes_openai::translations))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/readiness", get(readiness))
        .route("/metrics", get(metrics_text))
        .route("/v1/models", get(routes_openai::models))
        .merge(transcription_routes)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let id = req
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            info_span!("request", id, method = %req.method(), path = %req.uri().path())
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        // 5xx answers are logged with their reason by `observe`; a
                        // 503 from /readiness while loading is not an error.
                        .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// Request ids: a per-process random prefix and a counter (unique, short, sortable
/// within one process). A client's own `x-request-id` is kept as it is.
struct RequestIds {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self {
            prefix: nanos ^ std::process::id().rotate_left(16),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Clone for RequestIds {
    fn clone(&self) -> Self {
        Self {
            prefix: self.prefix,
            next: Arc::clone(&self.next),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-{n:08}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Counts and times every request, and logs why an error answer was given.
async fn observe(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = req.method().clone();
    let transcription = method == Method::POST
        && (path.starts_with("/transcriptions") || path.starts_with("/v1/audio/"));
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status();
    state.metrics.observe_request(
        method.as_str(),
        &path,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
        transcription,
    );
    if let Some(ErrorDetail(reason)) = response.extensions().get::<ErrorDetail>() {
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            error!(status = status.as_u16(), reason, "request failed");
        } else {
            info!(status = status.as_u16(), reason, "request refused");
        }
    }
    response
}

async fn root(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(json!({
        "name": "stt",
        "version": env!("CARGO_PKG_VERSION"),
        "environment": state.environment,
    }))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "healthy" }))
}

async fn readiness(State(state): State<SharedState>) -> Response {
    match state.engine() {
        Ok(engine) => Json(json!({
            "status": "ready",
            "version": env!("CARGO_PKG_VERSION"),
            "model": engine.model_name,
        }))
        .into_response(),
        Err(e) => {
            let status = if matches!(e, ApiError::Draining) {
                "draining"
            } else {
                "not ready"
            };
            let mut response = ContractError(e).into_response();
            // Same status and Retry-After as the error, plus the field probes read.
            let detail = response
                .extensions()
                .get::<ErrorDetail>()
                .map(|d| d.0.clone());
            *response.body_mut() =
                axum::body::Body::from(json!({ "status": status, "detail": detail }).to_string());
            response
        }
    }
}

async fn metrics_text(State(state): State<SharedState>) -> Response {
    let gauges = state.engine.get().map(|e| SchedulerGauges {
        queued: e.scheduler.queued(),
        busy: e.scheduler.busy(),
        workers: e.scheduler.config().workers,
        in_flight: e.scheduler.in_flight(),
        decoder_steps: e.scheduler.decoder_steps().steps,
        decoder_step_streams: e.scheduler.decoder_steps().rows,
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(gauges),
    )
        .into_response()
}

/// Unknown paths answer in the error shape of the API family they look like.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        OpenAiError(ApiError::NotFound).into_response()
    } else {
        ContractError(ApiError::NotFound).into_response()
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        OpenAiError(ApiError::MethodNotAllowed).into_response()
    } else {
        ContractError(ApiError::MethodNotAllowed).into_response()
    }
}

/// Loads the model and starts the workers (blocking: reads hundreds of MB).
fn load_engine(model: Option<&str>, scheduler: SchedulerConfig) -> Result<Engine> {
    let started = Instant::now();
    let model = crate::commands::models::load_model(model)?;
    let model_name = model.dir.file_name().map_or_else(
        || model.dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let multilingual = model.is_multilingual();
    info!(model = %model_name, seconds = started.elapsed().as_secs_f64(), "model loaded");
    let scheduler = Scheduler::new(Arc::new(model), scheduler).context("cannot start workers")?;
    Ok(Engine {
        scheduler,
        model_name,
        multilingual,
    })
}

/// One tiny transcription of silence through the real path, so the first client does
/// not pay for page faults and lazy initialisation.
async fn warm_up(engine: &Engine) -> Result<()> {
    let started = Instant::now();
    let admission = engine
        .scheduler
        .try_admit()
        .map_err(|e| anyhow::anyhow!("warm-up: {e}"))?;
    engine
        .scheduler
        .run(
            admission,
            Duration::from_secs(600),
            |model, cancel, stepper| async move {
                let silence = vec![0.0f32; 16_000];
                let hooks = Hooks {
                    progress: None,
                    cancel: Some(&cancel),
                };
                let options = TranscribeOptions::default();
                transcribe_pcm_with(&model, &silence, 1.0, &options, hooks, &stepper).await
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("warm-up: {e}"))?
        .context("warm-up transcription failed")?;
    info!(
        seconds = started.elapsed().as_secs_f64(),
        "warm-up done, ready"
    );
    Ok(())
}

/// Resolves on SIGTERM (Kubernetes, systemd) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = terminate => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
    }
}

/// Runs the server until a shutdown signal; `Ok` after a clean (or grace-bounded) drain.
pub async fn serve(config: ServeConfig) -> Result<()> {
    let state = Arc::new(AppState::new(config.limits, config.environment.clone()));
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
    let address = listener.local_addr()?;
    info!(%address, workers = config.scheduler.workers, threads_per_job = config.scheduler.threads_per_job,
          queue_size = config.scheduler.queue_size, "listening (not ready until the model is warm)");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut stopped_rx = stopped.clone();
    let app = router(Arc::clone(&state));
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped_rx.wait_for(|s| *s).await;
            })
            .await
    });

    let (model, scheduler) = (config.model.clone(), config.scheduler);
    let ready = async {
        let engine = tokio::task::spawn_blocking(move || load_engine(model.as_deref(), scheduler))
            .await
            .context("model loading stopped")??;
        warm_up(&engine).await?;
        anyhow::Ok(engine)
    };
    tokio::select! {
        engine = ready => state.set_engine(Arc::new(engine?)),
        _ = shutdown_signal() => {
            info!("stopping before the model was ready");
            return Ok(());
        }
    }
    shutdown_signal().await;

    // Readiness turns 503 and new work gets 503 + Retry-After, while the listener stays
    // open: load balancers take a moment to notice, and a fast 503 beats a refused
    // connection. Once the admitted requests are done (or the grace period is over)
    // the listener closes and open connections finish.
    state.start_draining();
    let deadline = tokio::time::Instant::now() + config.shutdown_grace;
    let in_flight = || state.engine.get().map_or(0, |e| e.scheduler.in_flight());
    info!(
        in_flight = in_flight(),
        grace_s = config.shutdown_grace.as_secs(),
        "draining"
    );
    while in_flight() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    drop(stopped);
    // Responses of finished jobs still need writing: allow a second past the deadline.
    let closing = deadline.max(tokio::time::Instant::now()) + Duration::from_secs(1);
    match tokio::time::timeout_at(closing, server).await {
        Ok(Ok(Ok(()))) => info!("drained, exiting"),
        Ok(Ok(Err(e))) => warn!("server error while draining: {e}"),
        Ok(Err(e)) => warn!("server task failed: {e}"),
        Err(_) => warn!(
            abandoned = in_flight(),
            "grace period over, exiting with requests still running"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The router in-process, before a model is loaded and while draining: the
    //! answers that need no engine.

    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn state() -> SharedState {
        Arc::new(AppState::new(
            Limits {
                max_file_bytes: 1024,
                max_duration_s: 60.0,
                request_timeout: Duration::from_secs(5),
                upload_idle: Duration::from_secs(5),
            },
            "test".into(),
        ))
    }

    async fn call(state: &SharedState, method: &str, path: &str) -> (StatusCode, Response) {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "multipart/form-data; boundary=x")
            .body(Body::from("--x--\r\n"))
            .unwrap();
        let response = router(Arc::clone(state)).oneshot(request).await.unwrap();
        (response.status(), response)
    }

    async fn json_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn before_the_model_is_ready_only_liveness_is_up() {
        runtime().block_on(async {
            let state = state();
            let (status, r) = call(&state, "GET", "/health").await;
            assert_eq!(status, StatusCode::OK);
            assert!(r.headers().contains_key("x-request-id"));
            let (status, r) = call(&state, "GET", "/readiness").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(json_of(r).await["status"], "not ready");
            for path in ["/transcriptions", "/transcriptions/process-isolated"] {
                let (status, r) = call(&state, "POST", path).await;
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(r.headers().contains_key("retry-after"));
                assert!(json_of(r).await["detail"].is_string());
            }
            let (status, r) = call(&state, "POST", "/v1/audio/transcriptions").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(json_of(r).await["error"]["message"].is_string());
            let (status, r) = call(&state, "GET", "/").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(json_of(r).await["environment"], "test");
        });
    }

    #[test]
    fn draining_answers_503_and_unknown_routes_404_405() {
        runtime().block_on(async {
            let state = state();
            state.start_draining();
            let (status, r) = call(&state, "GET", "/readiness").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(json_of(r).await["status"], "draining");
            let (status, _) = call(&state, "POST", "/transcriptions/fast").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            let (status, r) = call(&state, "GET", "/transcriptions/hybrid").await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
            assert!(json_of(r).await["detail"].is_string());
            let (status, r) = call(&state, "GET", "/v1/unknown").await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(json_of(r).await["error"]["message"].is_string());
            let (status, r) = call(&state, "GET", "/metrics").await;
            assert_eq!(status, StatusCode::OK);
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains("stt_http_requests_total"), "{text}");
            assert!(text.contains("stt_ready 0"), "{text}");
        });
    }
}

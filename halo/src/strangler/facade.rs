//! The façade: the new service's router, each of its routes switched
//! between the new handler, the legacy system and a shadow run, and every
//! other request forwarded to the legacy system.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use http_body_util::BodyExt;
use serde_json::Value;

use super::forward::{Legacy, read_body};
use super::routing::{RouteMode, Routing};
use super::shadow::{Normalize, differences};
use crate::Ctx;
use crate::http::server::Forwarded;
use crate::metrics::builtin;
use crate::params::LiveConfig;

/// A strangler façade: one interface for the callers while routes move,
/// one at a time, from a legacy system to the new service.
///
/// [`Strangler::wrap`] takes the new service's axum router. For each of its
/// routes the [`Routing`] (read through [`crate::params`], so a route moves
/// or moves back with a parameter change, no deploy) says where a request
/// goes: [`RouteMode::New`] runs the new handler, [`RouteMode::Legacy`]
/// (every route not named) forwards it to the [`Legacy`] system,
/// [`RouteMode::Shadow`] forwards it and runs the new handler on a copy,
/// compares the answers (status, and the body after
/// [`Strangler::normalize`]) and logs and counts the differences; the
/// caller gets the legacy answer. A request no route of the new router
/// matches is forwarded.
///
/// The routing is logged at start and on every change.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use halo::params::Params;
/// use halo::strangler::{Legacy, Routing, Strangler};
///
/// async fn order() -> &'static str {
///     "{\"id\": \"o-1\"}"
/// }
///
/// async fn init() -> Result<Router, halo::Error> {
///     let routing = Params::from_env().await?.load::<Routing>("/shop/prod/strangler").await?;
///     let legacy = Legacy::new(&std::env::var("LEGACY_URL")?)?;
///     let new_service = Router::new().route("/orders/{id}", get(order));
///     Ok(Strangler::new(legacy, routing).wrap(new_service))
/// }
///
/// fn main() -> std::process::ExitCode {
///     halo::platform::block_on(halo::http::run_with_init(init()))
/// }
/// ```
#[derive(Clone)]
pub struct Strangler {
    legacy: Legacy,
    routing: LiveConfig<Routing>,
    shadow_wait: Duration,
    normalize: Arc<Normalize>,
}

impl std::fmt::Debug for Strangler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strangler")
            .field("legacy", &self.legacy)
            .field("routing", &*self.routing.get())
            .field("shadow_wait", &self.shadow_wait)
            .finish_non_exhaustive()
    }
}

impl Strangler {
    /// A façade in front of `legacy`, each route switched by `routing`
    /// (a [`LiveConfig::fixed`] one for a switch that never changes).
    pub fn new(legacy: Legacy, routing: LiveConfig<Routing>) -> Strangler {
        Strangler { legacy, routing, shadow_wait: Duration::from_millis(100), normalize: Arc::new(|_: &mut Value| {}) }
    }

    /// How long after the legacy answer is ready a shadowed request waits
    /// for the new handler before answering without its comparison
    /// (100 ms by default): the most a shadow adds to a request's latency.
    #[must_use]
    pub fn shadow_wait(self, wait: Duration) -> Strangler {
        Strangler { shadow_wait: wait, ..self }
    }

    /// Normalises both JSON bodies of a shadowed request before they are
    /// compared (removes what differs by nature: generated ids, times).
    #[must_use]
    pub fn normalize(self, normalize: impl Fn(&mut Value) + Send + Sync + 'static) -> Strangler {
        Strangler { normalize: Arc::new(normalize), ..self }
    }

    /// The façade around `router`, the new service's routes: serve it with
    /// [`crate::http::run`] or [`crate::http::serve`].
    pub fn wrap(self, router: Router) -> Router {
        log_routing_changes(&self.routing);
        let facade = Arc::new(self);
        let unmatched = Arc::clone(&facade);
        router.route_layer(middleware::from_fn_with_state(facade, per_route)).fallback(move |request: Request| {
            let facade = Arc::clone(&unmatched);
            async move { facade.legacy.forward(request).await }
        })
    }

    /// Forwards `request`, runs the new handler on a copy, compares.
    async fn shadow(&self, route: String, request: Request, next: Next) -> Response {
        let (parts, body) = request.into_parts();
        let body = match read_body(body).await {
            Ok(body) => body,
            Err(too_large) => return too_large,
        };
        let mut copy = Request::new(Body::from(body.clone()));
        *copy.method_mut() = parts.method.clone();
        *copy.uri_mut() = parts.uri.clone();
        *copy.headers_mut() = parts.headers.clone();
        *copy.extensions_mut() = parts.extensions.clone();
        let ctx = parts.extensions.get::<Ctx>().cloned();
        let run = async move {
            let response = next.run(copy).await;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            (status, body)
        };
        let shadow = match ctx {
            Some(ctx) => tokio::spawn(ctx.scope(run)),
            None => tokio::spawn(run),
        };
        let abort = shadow.abort_handle();
        let answer = self.legacy.send(&parts.method, &parts.uri, &parts.headers, body).await;
        if answer.extensions().get::<Forwarded>().is_none() {
            // The legacy system gave no answer to compare with.
            abort.abort();
            return answer;
        }
        let (answer_parts, answer_body) = answer.into_parts();
        let answer_body = answer_body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let waited = Instant::now();
        match tokio::time::timeout(self.shadow_wait, shadow).await {
            Ok(Ok((status, body))) => {
                self.compare(&route, (answer_parts.status.as_u16(), &answer_body), (status, &body))
            }
            Ok(Err(_)) => {
                tracing::warn!(route = %route, "the shadowed handler panicked");
                builtin::count(builtin::SHADOW_DIFFERED, Some(&route));
            }
            Err(_) => {
                abort.abort();
                let waited_ms = waited.elapsed().as_millis() as u64;
                tracing::warn!(route = %route, waited_ms, "the shadowed handler did not answer in time");
                builtin::count(builtin::SHADOW_TIMED_OUT, Some(&route));
            }
        }
        Response::from_parts(answer_parts, Body::from(answer_body))
    }

    fn compare(&self, route: &str, legacy: (u16, &Bytes), new: (u16, &Bytes)) {
        let found = differences((legacy.0, legacy.1), (new.0, new.1), &*self.normalize);
        if found.is_empty() {
            tracing::debug!(route, "the shadow answer matches");
            builtin::count(builtin::SHADOW_MATCHED, Some(route));
        } else {
            tracing::warn!(route, legacy_status = legacy.0, new_status = new.0, differences = ?found, "the shadow answer differs");
            builtin::count(builtin::SHADOW_DIFFERED, Some(route));
        }
    }
}

/// Sends a request one of the new router's routes matched where its
/// route's mode says.
async fn per_route(State(facade): State<Arc<Strangler>>, request: Request, next: Next) -> Response {
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let method = request.method().as_str().to_owned();
    match facade.routing.get().mode(&method, &template) {
        RouteMode::New => next.run(request).await,
        RouteMode::Shadow => facade.shadow(format!("{method} {template}"), request, next).await,
        RouteMode::Legacy => facade.legacy.forward(request).await,
    }
}

/// Logs the routing now and whenever a refresh changes it.
fn log_routing_changes(routing: &LiveConfig<Routing>) {
    let last: Mutex<Option<Routing>> = Mutex::new(None);
    routing.on_change(move |routing: &Routing| {
        let mut last = crate::lock::lock(&last);
        if last.as_ref() == Some(routing) {
            return;
        }
        let routes = serde_json::to_string(routing).unwrap_or_default();
        tracing::info!(routing = %routes, "strangler routing");
        let malformed = routing.malformed();
        if !malformed.is_empty() {
            tracing::warn!(entries = ?malformed, "routing entries that match no request: write `METHOD /path` or `/path`");
        }
        *last = Some(routing.clone());
    });
}

//! posts-api: the posts' writes and the reports' reads, one axum router.
//!
//! Writes go to the posts table; the views follow through its stream
//! (`posts-projector`). Reads of a view go through a cache-aside cache in
//! the container: a view is read from the views table once per key and
//! TTL however many requests want it, and concurrent misses of a key make
//! one read. In a local run (no `POSTS_TABLE`), posts and views are in
//! memory and a write applies its change to the views itself.
//!
//! ```text
//! cargo run -p reporting --bin posts-api -- serve --port 3000
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use halo::cache::{Cache, SharedTier};
use halo::projection::{Change, Projector};
use reporting::posts::{Post, PostInput, Posts, valid_name};
use reporting::reports::{self, ALL, AUTHOR_SUMMARY, MOST_VIEWED, TOP_SIZE, TOTALS};
use serde::Deserialize;
use serde_json::{Value, json};

/// How long a view read is served from the cache without reading again.
const FRESH_FOR: Duration = Duration::from_secs(5);
/// How long after that a stale view is still served while one request
/// reads it again in the background.
const STALE_FOR: Duration = Duration::from_secs(25);
/// How long a view read by one container is served to the others from the
/// shared tier.
const SHARED_FOR: Duration = Duration::from_secs(5);
/// The views a container keeps (an author summary is about 100 bytes,
/// the most viewed index about 5 KB).
const MAX_CACHED: usize = 10_000;

#[derive(Clone)]
struct App {
    posts: Arc<Posts>,
    projector: Projector,
    /// Views by `"<view>/<key>"`; `None` for a view with no item.
    views: Cache<Option<Value>>,
}

impl App {
    /// The view `view` at `key`, through the cache.
    async fn view(&self, view: &str, key: &str) -> Result<Option<Value>, halo::Error> {
        Ok(self.views.get(&format!("{view}/{key}")).await?.as_ref().clone())
    }

    /// A local run has no stream: the write's change is applied to the
    /// views here, and the views it touched leave this container's cache.
    async fn apply_locally(&self, change: Option<Change>) -> Result<(), halo::Error> {
        let Some(change) = change else { return Ok(()) };
        self.projector.apply(&change).await?;
        for post in [change.before::<Post>()?, change.after::<Post>()?].into_iter().flatten() {
            self.views.invalidate(&format!("{AUTHOR_SUMMARY}/{}", post.author));
        }
        self.views.invalidate(&format!("{MOST_VIEWED}/{ALL}"));
        self.views.invalidate(&format!("{TOTALS}/{ALL}"));
        Ok(())
    }
}

async fn put_post(
    State(app): State<App>,
    Path(id): Path<String>,
    Json(input): Json<PostInput>,
) -> Result<Json<Post>, halo::Error> {
    let post = input.into_post(&id)?;
    let change = app.posts.put(&post).await?;
    app.apply_locally(change).await?;
    Ok(Json(post))
}

async fn delete_post(State(app): State<App>, Path(id): Path<String>) -> Result<StatusCode, halo::Error> {
    let change = app.posts.delete(&id).await?;
    app.apply_locally(change).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_post(State(app): State<App>, Path(id): Path<String>) -> Result<Json<Post>, halo::Error> {
    app.posts.get(&id).await?.map(Json).ok_or_else(|| halo::Error::not_found("no such post"))
}

/// Counters as the API shows them: `0` for a field the view lacks.
fn counters(view: Option<&Value>) -> Value {
    let field = |name: &str| view.and_then(|v| v.get(name)).and_then(Value::as_i64).unwrap_or(0);
    json!({ "posts": field("posts"), "views": field("views"), "likes": field("likes") })
}

async fn author_summary(State(app): State<App>, Path(author): Path<String>) -> Result<Json<Value>, halo::Error> {
    if !valid_name(&author) {
        return Err(halo::Error::not_found("no such author"));
    }
    let summary = app.view(AUTHOR_SUMMARY, &author).await?;
    let summary = counters(summary.as_ref());
    if summary["posts"].as_i64().unwrap_or(0) <= 0 {
        return Err(halo::Error::not_found("no such author"));
    }
    Ok(Json(json!({ "author": author, "summary": summary })))
}

#[derive(Debug, Deserialize)]
struct TopQuery {
    limit: Option<usize>,
}

async fn most_viewed(State(app): State<App>, Query(query): Query<TopQuery>) -> Result<Json<Value>, halo::Error> {
    let limit = query.limit.unwrap_or(10);
    if limit == 0 || limit > TOP_SIZE {
        return Err(halo::Error::unprocessable(format!("`limit` must be between 1 and {TOP_SIZE}")));
    }
    let index = app.view(MOST_VIEWED, ALL).await?;
    let posts: Vec<Value> = index
        .as_ref()
        .and_then(|index| index["entries"].as_array())
        .into_iter()
        .flatten()
        .take(limit)
        .map(|entry| json!({ "id": entry["member"], "views": entry["score"].as_f64().unwrap_or(0.0) as u64 }))
        .collect();
    Ok(Json(json!({ "posts": posts })))
}

async fn totals(State(app): State<App>) -> Result<Json<Value>, halo::Error> {
    Ok(Json(counters(app.view(TOTALS, ALL).await?.as_ref())))
}

/// The API. `#[halo::http]` serves it on Lambda (and with `invoke` /
/// `serve` locally), building `App` once per container with `init`.
#[halo::http(init = init)]
fn router(app: App) -> Router {
    Router::new()
        .route("/posts/{id}", get(get_post).put(put_post).delete(delete_post))
        .route("/authors/{author}", get(author_summary))
        .route("/top", get(most_viewed))
        .route("/totals", get(totals))
        .with_state(app)
}

/// Once per container: the posts table and the views store, each by
/// halo's one store rule (`POSTS_TABLE`, `HALO_VIEWS_TABLE`; required
/// inside Lambda, in memory in a local run), and the views' cache
/// (shared by every container through `HALO_CACHE_TABLE` when it is set).
async fn init() -> Result<App, halo::Error> {
    let posts = Arc::new(Posts::from_env().await?);
    let projector = reports::projector_from_env().await?;
    let reader = projector.clone();
    let views = Cache::new("views", move |key: String| {
        let reader = reader.clone();
        async move {
            let (view, key) = key.split_once('/').unwrap_or((key.as_str(), ""));
            reader.view::<Value>(view, key).await
        }
    })
    .ttl(FRESH_FOR)
    .stale_for(STALE_FOR)
    .max_entries(MAX_CACHED);
    // With `HALO_CACHE_TABLE`, a view one container read is read by the
    // others from that table (one GetItem, however large the view) until
    // the tier's TTL.
    let views = match SharedTier::from_env().await? {
        Some(tier) => views.shared(tier.ttl(SHARED_FOR)),
        None => views,
    };
    Ok(App { posts, projector, views })
}

//! reporting as compiled binaries on moto: posts written through
//! `posts-api`, the table's stream read through the DynamoDB Streams API
//! (as Lambda's poller reads it) and handed to `posts-projector` in
//! batches that are delivered twice, replayed from an earlier record and
//! stopped by a poison record, then the views read back through
//! `posts-api` equal the views computed from the table's final state.
//! And a local run (`serve`, everything in memory) that serves its own
//! writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use halo::projection::DynamoDbViews;
use halo_test_support::function::FunctionProcess;
use halo_test_support::local_server::LocalServer;
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use halo_test_support::streams::{StreamReader, create_streamed_table, lambda_event};
use serde_json::{Value, json};

const API: &str = env!("CARGO_BIN_EXE_posts-api");
const PROJECTOR: &str = env!("CARGO_BIN_EXE_posts-projector");
const TIMEOUT: Duration = Duration::from_secs(20);
/// Failed deliveries of one record before it goes to the on-failure
/// destination (the template's `MaximumRetryAttempts` is larger; the
/// behaviour is the same).
const ATTEMPTS: usize = 2;

/// An HTTP API request to `posts-api` (the shape of `events/put-post.json`).
fn request(method: &str, path: &str, body: Option<Value>) -> Value {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/put-post.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["body"] = body.map_or(Value::Null, |b| b.to_string().into());
    event
}

fn status_and_body(outcome: &Outcome) -> (u64, Value) {
    let status = outcome.body["statusCode"].as_u64().unwrap_or_else(|| panic!("not HTTP: {:?}", outcome.body));
    (status, serde_json::from_str(outcome.body["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null))
}

/// The posts table, the views table and the stream reader on moto, and
/// the functions' environment.
struct Tables {
    client: aws_sdk_dynamodb::Client,
    posts: String,
    stream: StreamReader,
    env: Vec<(String, String)>,
}

impl Tables {
    async fn create(moto: &Moto) -> Tables {
        let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
        let (posts, views) = (unique_name("posts"), unique_name("views"));
        let stream_arn = create_streamed_table(&client, &posts, "id").await;
        DynamoDbViews::new(client.clone(), &views).create_table().await.unwrap();
        let mut env = moto.env();
        env.push(("POSTS_TABLE".into(), posts.clone()));
        env.push(("HALO_VIEWS_TABLE".into(), views));
        Tables { client, posts, stream: StreamReader::new(moto, &stream_arn).await, env }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// Every well-formed post in the table (a scan).
    async fn posts(&self) -> Vec<Value> {
        let scan = self.client.scan().table_name(&self.posts).send().await.unwrap();
        scan.items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| {
                let s = |name: &str| item.get(name)?.as_s().ok().cloned();
                let n = |name: &str| item.get(name)?.as_n().ok()?.parse::<i64>().ok();
                Some(json!({"id": s("id")?, "author": s("author")?, "views": n("views")?, "likes": n("likes")?}))
            })
            .collect()
    }
}

/// The views the final table implies: summaries of the authors with
/// posts, the most viewed (by views, then id), the totals.
fn expected(posts: &[Value]) -> (BTreeMap<String, Value>, Vec<Value>, Value) {
    let mut summaries: BTreeMap<String, Value> = BTreeMap::new();
    let mut totals = json!({"posts": 0, "views": 0, "likes": 0});
    for post in posts {
        let author = post["author"].as_str().unwrap().to_owned();
        let summary = summaries.entry(author).or_insert_with(|| json!({"posts": 0, "views": 0, "likes": 0}));
        for counters in [summary, &mut totals] {
            counters["posts"] = (counters["posts"].as_i64().unwrap() + 1).into();
            counters["views"] = (counters["views"].as_i64().unwrap() + post["views"].as_i64().unwrap()).into();
            counters["likes"] = (counters["likes"].as_i64().unwrap() + post["likes"].as_i64().unwrap()).into();
        }
    }
    let mut top: Vec<(i64, String)> =
        posts.iter().map(|p| (p["views"].as_i64().unwrap(), p["id"].as_str().unwrap().to_owned())).collect();
    top.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let top = top.into_iter().map(|(views, id)| json!({"id": id, "views": views})).collect();
    (summaries, top, totals)
}

/// Hands `records` to the projector as Lambda's event source mapping does:
/// batches of up to `batch` records from the checkpoint; a reported
/// failure moves the checkpoint to the failed record, which is retried
/// until it has failed [`ATTEMPTS`] times and then skipped (sent to the
/// on-failure destination). Some batches are delivered a second time and
/// some replayed from an earlier record, as after a timeout. Returns the
/// sequence numbers sent to the on-failure destination.
async fn deliver(api: &RuntimeApi, records: &[Value], batch: usize, rng: &mut fastrand::Rng) -> Vec<String> {
    let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();
    let (mut checkpoint, mut failures, mut destination) = (0, BTreeMap::new(), Vec::new());
    while checkpoint < records.len() {
        let start = if rng.u8(..4) == 0 { checkpoint.saturating_sub(rng.usize(1..=batch)) } else { checkpoint };
        let end = (start + batch).min(records.len());
        let event = lambda_event(&records[start..end]);
        let deliveries = if rng.bool() { 2 } else { 1 };
        let mut answer = Value::Null;
        for _ in 0..deliveries {
            let outcome = api.invoke(&event, TIMEOUT).await;
            assert!(outcome.success, "a batch answers with its failures: {:?}", outcome.body);
            answer = outcome.body;
        }
        match answer["batchItemFailures"].as_array().unwrap().as_slice() {
            [] => checkpoint = end,
            [failed] => {
                let failed = failed["itemIdentifier"].as_str().unwrap().to_owned();
                let at = records.iter().position(|r| sequence(r) == failed).expect("a record of the batch");
                assert!((start..end).contains(&at));
                let count = failures.entry(failed.clone()).or_insert(0);
                *count += 1;
                checkpoint = if *count >= ATTEMPTS {
                    destination.push(failed);
                    at + 1
                } else {
                    at
                };
            }
            more => panic!("a stream batch reports only its first failure: {more:?}"),
        }
    }
    destination
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_built_from_the_stream_equal_the_views_of_the_final_table() {
    let moto = Moto::shared();
    for seed in [7_u64, 1_201] {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut tables = Tables::create(moto).await;
        let api = RuntimeApi::start().await;
        let api_function = FunctionProcess::start(Path::new(API), &api, &tables.env());

        // A random history of writes and deletes through the API, and one
        // item written around it that is not a post.
        let authors = ["ada", "grace", "alan"];
        let (mut existing, mut changes) = (std::collections::BTreeSet::new(), 1);
        for step in 0..40 {
            let id = format!("p-{}", rng.u8(..8));
            let (method, body) = if rng.u8(..5) == 0 {
                changes += usize::from(existing.remove(&id));
                ("DELETE", None)
            } else {
                let body = json!({
                    "author": authors[rng.usize(..authors.len())],
                    "title": format!("post {step}"),
                    "views": rng.u64(..5_000),
                    "likes": rng.u64(..300),
                });
                existing.insert(id.clone());
                changes += 1;
                ("PUT", Some(body))
            };
            let (status, _) =
                status_and_body(&api.invoke(&request(method, &format!("/posts/{id}"), body), TIMEOUT).await);
            assert!(matches!(status, 200 | 204), "{method} {id}: {status}");
            if step == 20 {
                let poison = [("id", "poison"), ("author", "ada"), ("title", "t"), ("views", "many")]
                    .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())));
                let put = tables.client.put_item().table_name(&tables.posts).set_item(Some(poison.into()));
                put.send().await.unwrap();
            }
        }

        let records = tables.stream.read().await;
        assert_eq!(records.len(), changes, "the stream holds every write that changed an item");
        let poison_sequence = records
            .iter()
            .find(|r| r["dynamodb"]["Keys"]["id"]["S"] == "poison")
            .map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned())
            .unwrap();

        let projector_api = RuntimeApi::start().await;
        let projector = FunctionProcess::start(Path::new(PROJECTOR), &projector_api, &tables.env());
        let destination = deliver(&projector_api, &records, 7, &mut rng).await;
        assert_eq!(destination, [poison_sequence], "only the poison record reaches the on-failure destination");
        projector.stop();

        // The views as the read API serves them: the API has not read a
        // view yet, so its cache holds nothing stale.
        let (summaries, top, totals) = expected(&tables.posts().await);
        let get = |path: String| {
            let api = &api;
            async move { status_and_body(&api.invoke(&request("GET", &path, None), TIMEOUT).await) }
        };
        for author in authors {
            let (status, body) = get(format!("/authors/{author}")).await;
            match summaries.get(author) {
                Some(summary) => assert_eq!((status, &body["summary"]), (200, summary), "seed {seed}, {author}"),
                None => assert_eq!(status, 404, "seed {seed}: {author} has no posts"),
            }
        }
        let (status, body) = get("/top?limit=100".into()).await;
        assert_eq!((status, body["posts"].as_array().unwrap()), (200, &top), "seed {seed}: the most viewed");
        assert_eq!(get("/totals".into()).await, (200, totals), "seed {seed}: the totals");
        api_function.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_run_keeps_posts_and_views_in_memory_and_serves_its_own_writes() {
    let server = LocalServer::start(Path::new(API)).await;
    let http = |method, path: &str, body: Option<Value>| {
        let (server, path) = (&server, path.to_owned());
        async move {
            let answer = server.request(method, &path, body.map(|b| b.to_string()).as_deref(), &[]).await;
            (answer.status, answer.body)
        }
    };

    for (id, author, views) in [("p-1", "ada", 40), ("p-2", "ada", 90), ("p-3", "grace", 60)] {
        let post = json!({"author": author, "title": format!("{id} by {author}"), "views": views, "likes": 1});
        assert_eq!(http("PUT", &format!("/posts/{id}"), Some(post)).await.0, 200);
    }
    assert_eq!(
        http("GET", "/authors/ada", None).await,
        (200, json!({"author": "ada", "summary": {"posts": 2, "views": 130, "likes": 2}}))
    );
    let top = json!({"posts": [{"id": "p-2", "views": 90}, {"id": "p-3", "views": 60}]});
    assert_eq!(http("GET", "/top?limit=2", None).await, (200, top));
    // A write reaches the views the cache had served: the local run
    // evicts what it changed.
    assert_eq!(http("DELETE", "/posts/p-2", None).await.0, 204);
    assert_eq!(http("DELETE", "/posts/p-2", None).await.0, 204, "a second delete changes nothing");
    assert_eq!(
        http("GET", "/authors/ada", None).await,
        (200, json!({"author": "ada", "summary": {"posts": 1, "views": 40, "likes": 1}}))
    );
    assert_eq!(http("GET", "/totals", None).await, (200, json!({"posts": 2, "views": 100, "likes": 2})));

    // Bad input: a clear error, no caller text echoed, nothing written.
    let hostile = json!({"author": "<script>alert(1)</script>", "title": "x"});
    let (status, body) = http("PUT", "/posts/p-9", Some(hostile)).await;
    assert_eq!(status, 422);
    assert!(!body.to_string().contains("script"), "{body}");
    assert_eq!(http("GET", "/top?limit=101", None).await.0, 422);
    assert_eq!(http("GET", "/posts/p-9", None).await.0, 404);
    assert_eq!(http("GET", "/authors/nobody", None).await.0, 404);
    let unknown_field = json!({"author": "ada", "title": "x", "score": 3});
    assert_eq!(http("PUT", "/posts/p-9", Some(unknown_field)).await.0, 422);
}

/// The README's `invoke` line: one warm process, in memory, answers the
/// PUT and then serves the views it made.
#[test]
fn the_local_invoke_of_the_readme_reads_its_own_write() {
    let events = ["put-post.json", "get-author.json", "get-top.json"]
        .map(|name| Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(name));
    let output = std::process::Command::new(API)
        .arg("invoke")
        .args(&events)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("POSTS_TABLE")
        .env_remove("HALO_VIEWS_TABLE")
        .output()
        .unwrap();
    assert!(output.status.success());
    let bodies: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|response| serde_json::from_str(response["body"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies[1], json!({"author": "ada", "summary": {"posts": 1, "views": 1843, "likes": 97}}));
    assert_eq!(bodies[2], json!({"posts": [{"id": "p-1", "views": 1843}]}));
}

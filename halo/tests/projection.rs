//! `halo::projection`: views built from a stream stay equal to the views
//! computed from the source table's final state, whatever the stream
//! does: batches delivered twice, replays from an earlier record, records
//! that fail half-way through their projections and are retried (in memory
//! and in DynamoDB on moto); and a real DynamoDB Streams event read through
//! `Projector::process`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use halo::batch::{BatchOptions, DynamoDbStream};
#[cfg(feature = "dynamodb")]
use halo::projection::DynamoDbViews;
use halo::projection::store::ViewStore;
use halo::projection::{self, Change, MemoryViews, Projection, Projector, ViewWrite};
use halo::{Error, ErrorKind};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Deserialize, PartialEq)]
struct Post {
    author: String,
    views: i64,
}

/// Per author: how many posts and how many views in all.
fn summary_projection() -> impl Projection {
    projection::from_fn("author-summary", |change: &Change| {
        let mut writes = Vec::new();
        if let Some(post) = change.before::<Post>()? {
            writes.push(ViewWrite::add("summary", &post.author, "posts", -1));
            writes.push(ViewWrite::add("summary", &post.author, "views", -post.views));
        }
        if let Some(post) = change.after::<Post>()? {
            writes.push(ViewWrite::add("summary", &post.author, "posts", 1));
            writes.push(ViewWrite::add("summary", &post.author, "views", post.views));
        }
        Ok(writes)
    })
}

/// A card per post (a materialized view) and the three most viewed posts
/// (a bounded index).
fn card_and_index_projection() -> impl Projection {
    projection::from_fn("cards-and-top", |change: &Change| {
        Ok(match change.after::<Post>()? {
            Some(post) => vec![
                ViewWrite::put("card", change.key(), &json!({"author": post.author, "views": post.views}))?,
                ViewWrite::rank("top", "all", change.key(), post.views as f64, 3),
            ],
            None => vec![ViewWrite::delete("card", change.key()), ViewWrite::unrank("top", "all", change.key())],
        })
    })
}

/// A projection that fails the first attempt of chosen changes, after the
/// projections before it have written: a record that fails half-way.
struct FailsOnce {
    failing: std::sync::Mutex<std::collections::BTreeSet<u128>>,
}

impl Projection for FailsOnce {
    fn name(&self) -> &str {
        "fails-once"
    }

    fn project(&self, change: &Change) -> Result<Vec<ViewWrite>, Error> {
        if self.failing.lock().unwrap().remove(&change.sequence()) {
            return Err(Error::new(ErrorKind::Unavailable, "injected failure"));
        }
        Ok(Vec::new())
    }
}

#[derive(Debug, Clone)]
enum Op {
    Upsert { post: u8, author: u8, more_views: u8 },
    Delete { post: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0u8..3, 0u8..50).prop_map(|(post, author, more_views)| Op::Upsert { post, author, more_views }),
        1 => (0u8..6).prop_map(|post| Op::Delete { post }),
    ]
}

/// How the stream delivers one batch.
#[derive(Debug, Clone)]
enum Delivery {
    Once,
    Twice,
    /// Then again from this many records earlier.
    ReplayFrom(u8),
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        3 => Just(Delivery::Once),
        1 => Just(Delivery::Twice),
        1 => (1u8..10).prop_map(Delivery::ReplayFrom),
    ]
}

/// The stream of changes `ops` make, and the table's final state.
fn history(ops: &[Op]) -> (Vec<Change>, BTreeMap<String, Post>) {
    let sequence = AtomicU64::new(100);
    let mut table: BTreeMap<String, Post> = BTreeMap::new();
    let mut changes = Vec::new();
    for op in ops {
        let next = || u128::from(sequence.fetch_add(1, Ordering::SeqCst));
        match op {
            Op::Upsert { post, author, more_views } => {
                let key = format!("post-{post}");
                let before = table.get(&key).cloned();
                // Views only grow, so the index of the most viewed is exact.
                let views = before.as_ref().map_or(0, |p| p.views) + i64::from(*more_views);
                let after = Post { author: format!("author-{author}"), views };
                let to_json = |p: &Post| json!({"author": p.author, "views": p.views});
                changes.push(Change::new(&key, next(), before.as_ref().map(to_json), Some(to_json(&after))));
                table.insert(key, after);
            }
            Op::Delete { post } => {
                let key = format!("post-{post}");
                if let Some(before) = table.remove(&key) {
                    let before = json!({"author": before.author, "views": before.views});
                    changes.push(Change::new(&key, next(), Some(before), None));
                }
            }
        }
    }
    (changes, table)
}

/// Delivers `changes` in batches as Lambda would: a failed record stops
/// its batch, and the batch is delivered again from that record.
fn deliver(runtime: &tokio::runtime::Runtime, projector: &Projector, changes: &[Change], batches: &[(u8, Delivery)]) {
    let mut at = 0;
    let mut plan = batches.iter().cycle();
    while at < changes.len() {
        let (size, delivery) = plan.next().unwrap();
        let end = (at + usize::from(*size).max(1)).min(changes.len());
        let mut from = at;
        let mut rounds = match delivery {
            Delivery::Once => vec![(at, end)],
            Delivery::Twice => vec![(at, end), (at, end)],
            Delivery::ReplayFrom(back) => vec![(at, end), (at.saturating_sub(usize::from(*back)), end)],
        };
        while let Some((start, stop)) = rounds.first().copied() {
            let failed = (start..stop).find(|i| runtime.block_on(projector.apply(&changes[*i])).is_err());
            match failed {
                Some(i) => rounds[0] = (i, stop), // redelivered from the failed record
                None => {
                    rounds.remove(0);
                }
            }
            from = from.max(stop);
        }
        at = from;
    }
}

fn summaries(table: &BTreeMap<String, Post>) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for post in table.values() {
        let entry = out.entry(post.author.clone()).or_default();
        entry.0 += 1;
        entry.1 += post.views;
    }
    out.into_iter().map(|(author, (posts, views))| (author, json!({"posts": posts, "views": views}))).collect()
}

/// Delivers the history of `ops` to views in `views` as `batches` say,
/// failing the first attempt of the changes in `failures` half-way, and
/// checks every view against the views of the final table.
fn check(
    runtime: &tokio::runtime::Runtime,
    views: Arc<dyn ViewStore>,
    ops: &[Op],
    batches: &[(u8, Delivery)],
    failures: BTreeSet<u128>,
) -> Result<(), TestCaseError> {
    let (changes, table) = history(ops);
    let projector = Projector::new(views)
        .projection(summary_projection())
        .projection(FailsOnce { failing: std::sync::Mutex::new(failures) })
        .projection(card_and_index_projection());
    deliver(runtime, &projector, &changes, batches);

    let view = |name: &str, key: &str| runtime.block_on(projector.view::<Value>(name, key)).unwrap();
    let zero = json!({"posts": 0, "views": 0});
    for author in ["author-0", "author-1", "author-2"] {
        let expected = summaries(&table).get(author).cloned();
        let got = view("summary", author);
        prop_assert!(
            got == expected || (expected.is_none() && got.as_ref() == Some(&zero)),
            "{author}: {got:?} != {expected:?}"
        );
    }
    for post in 0..6 {
        let key = format!("post-{post}");
        let expected = table.get(&key).map(|p| json!({"author": p.author, "views": p.views}));
        prop_assert_eq!(view("card", &key), expected, "card of {}", key);
    }
    let deleted = ops.iter().any(|op| matches!(op, Op::Delete { .. }));
    if !deleted {
        let mut top: Vec<(&String, i64)> = table.iter().map(|(k, p)| (k, p.views)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let expected: Vec<Value> = top.iter().take(3).map(|(k, v)| json!({"member": k, "score": *v as f64})).collect();
        let got = view("top", "all").map(|v| v["entries"].clone()).unwrap_or(json!([]));
        prop_assert_eq!(got, Value::Array(expected));
    }
    if let Some(top) = view("top", "all") {
        prop_assert!(top["entries"].as_array().unwrap().len() <= 3, "the index keeps at most 3");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn views_equal_the_views_of_the_final_table(
        ops in proptest::collection::vec(op(), 1..60),
        batches in proptest::collection::vec((1u8..8, delivery()), 1..6),
        failures in proptest::collection::btree_set(100u128..160, 0..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        check(&runtime, Arc::new(MemoryViews::new()), &ops, &batches, failures)?;
    }
}

#[cfg(feature = "dynamodb")]
proptest! {
    // Each case is a table on moto and a few hundred requests: a few
    // cases, the memory store above covers the many.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn views_in_dynamodb_equal_the_views_of_the_final_table(
        ops in proptest::collection::vec(op(), 1..30),
        batches in proptest::collection::vec((1u8..8, delivery()), 1..6),
        failures in proptest::collection::btree_set(100u128..130, 0..4),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let views = runtime.block_on(async {
            let config = halo_test_support::moto::Moto::shared().sdk_config().await;
            let views = DynamoDbViews::new(
                aws_sdk_dynamodb::Client::new(&config),
                halo_test_support::moto::unique_name("views"),
            );
            views.create_table().await.expect("the views table");
            views
        });
        check(&runtime, Arc::new(views), &ops, &batches, failures)?;
    }
}

#[tokio::test]
async fn a_real_stream_event_is_projected_once_even_when_delivered_twice() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/aws/aws_lambda_events/example-dynamodb-event.json"
    ))
    .unwrap();
    let counted = projection::from_fn("inserts", |change: &Change| {
        Ok(if change.is_insert() { vec![ViewWrite::add("stats", "table", "inserts", 1)] } else { Vec::new() })
    });
    let projector = Projector::new(Arc::new(MemoryViews::new())).projection(counted);
    for _ in 0..2 {
        let batch: DynamoDbStream = serde_json::from_str(&text).unwrap();
        let response = projector.process(batch, &BatchOptions::default()).await.unwrap();
        assert!(response.is_success());
    }
    let stats: Value = projector.view("stats", "table").await.unwrap().expect("counted");
    // The sample's two records carry the same keys and sequence number:
    // one change, delivered twice in one batch, and the batch delivered
    // twice: counted once.
    assert_eq!(stats, json!({"inserts": 1}));
}

#[test]
fn a_change_is_keyed_by_its_partition_key_alone_or_by_its_whole_composite_key() {
    let key_of = |keys: Value| {
        let record = json!({
            "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"Keys": keys.clone(), "NewImage": keys, "SequenceNumber": "11", "SizeBytes": 10}
        });
        Change::from_record(&serde_json::from_value(record).unwrap()).unwrap().key().to_owned()
    };
    assert_eq!(key_of(json!({"id": {"S": "post-1"}})), "post-1");
    assert_eq!(key_of(json!({"n": {"N": "42"}})), "42");
    assert_eq!(key_of(json!({"sk": {"S": "b"}, "pk": {"S": "a"}})), r#"{"pk":"a","sk":"b"}"#);
}

#[tokio::test]
async fn a_record_without_a_sequence_number_fails_the_batch_at_that_record() {
    let event = json!({"Records": [{
        "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"id": {"S": "<script>"}}, "NewImage": {"id": {"S": "<script>"}}, "SizeBytes": 10}
    }]});
    let batch: DynamoDbStream = serde_json::from_value(event).unwrap();
    let projector = Projector::new(Arc::new(MemoryViews::new()))
        .projection(projection::from_fn("any", |_: &Change| Ok(vec![ViewWrite::add("v", "k", "n", 1)])));
    let err = projector.process(batch, &BatchOptions::default()).await.unwrap_err();
    assert!(!err.message().contains("<script>"), "no caller text in the error: {}", err.message());
}

/// A transaction applied whose answer is lost (dropped, or replaced by a
/// 500): the SDK sends it again, its marker refuses the copy, and the
/// change is counted once. Throttles and 500s before the write are
/// retried to the same end.
#[cfg(feature = "dynamodb")]
#[tokio::test]
async fn a_change_whose_answer_is_lost_is_counted_once() {
    use halo_test_support::fault_proxy::{Fault, FaultProxy};
    use halo_test_support::moto::{Moto, sdk_config, unique_name};

    let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
    let views = Arc::new(DynamoDbViews::new(client, unique_name("views-faults")));
    views.create_table().await.unwrap();
    let projector = Projector::new(views).projection(summary_projection());
    let faults = [Fault::AppliedThenDropped, Fault::AppliedThenServerError, Fault::Throttled, Fault::ServerError];
    for (i, fault) in faults.into_iter().enumerate() {
        let change = Change::new(format!("post-{i}"), 10, None, Some(json!({"author": "ada", "views": 5})));
        proxy.plan("TransactWriteItems", fault);
        projector.apply(&change).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
    }
    let summary: Value = projector.view("summary", "ada").await.unwrap().unwrap();
    assert_eq!(summary, json!({"posts": 4, "views": 20}), "each change counted once");
    assert_eq!(proxy.count("TransactWriteItems"), 8, "each change sent twice: its fault, then the retry");
}

/// What a change costs in requests, counted at a proxy: one
/// `TransactWriteItems` per change and no read, but for the first write of
/// an index item in a container; a redelivered change one refused
/// `TransactWriteItems`.
#[cfg(feature = "dynamodb")]
#[tokio::test]
async fn a_change_is_one_transaction_and_no_read() {
    use halo_test_support::fault_proxy::FaultProxy;
    use halo_test_support::moto::{Moto, sdk_config, unique_name};

    let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
    let views = Arc::new(DynamoDbViews::new(client, unique_name("views-cost")));
    views.create_table().await.unwrap();
    let projector = Projector::new(views).projection(summary_projection()).projection(card_and_index_projection());
    for i in 0..20 {
        let post = json!({"author": format!("author-{}", i % 3), "views": i});
        projector.apply(&Change::new(format!("post-{i}"), 10, None, Some(post))).await.unwrap();
    }
    // Two projections, so two transactions per change.
    assert_eq!(proxy.count("TransactWriteItems"), 40);
    assert_eq!(proxy.count("GetItem"), 1, "the index item, read once by this container");
    let again = Change::new("post-3", 10, None, Some(json!({"author": "author-0", "views": 3})));
    projector.apply(&again).await.unwrap();
    assert_eq!(proxy.count("TransactWriteItems"), 42, "a duplicate: one refused transaction per projection");
    assert_eq!(proxy.count("GetItem"), 1);
}

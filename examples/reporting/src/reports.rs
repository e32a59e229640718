//! The views of the posts table, kept from its stream: a summary per
//! author, the most viewed posts and the totals.
//!
//! Each projection computes its writes from the change alone (the post
//! before and after it), never from reading a view, so every delivery of a
//! change gives the same writes and [`Projector`] can apply it once.

use std::sync::Arc;

use halo::durable::StoreError;
use halo::projection::{self, Change, Projection, Projector, ViewWrite, store::ViewStore};

use crate::posts::Post;

/// The summary of an author's posts: the counters `posts`, `views` and
/// `likes`, keyed by author.
pub const AUTHOR_SUMMARY: &str = "author-summary";
/// The most viewed posts: one index item (key [`ALL`]) of the
/// [`TOP_SIZE`] best `views`, each entry `{"member": post id, "score": views}`.
pub const MOST_VIEWED: &str = "most-viewed";
/// The counters `posts`, `views` and `likes` of every post (key [`ALL`]).
pub const TOTALS: &str = "totals";
/// The key of the views that have one item.
pub const ALL: &str = "all";
/// How many posts the most viewed index keeps.
pub const TOP_SIZE: usize = 100;

/// A post's counters, signed: `+1` for the post after a change, `-1` for
/// the post before it.
fn counters(writes: &mut Vec<ViewWrite>, post: &Post, sign: i64) {
    for (view, key) in [(AUTHOR_SUMMARY, post.author.as_str()), (TOTALS, ALL)] {
        writes.push(ViewWrite::add(view, key, "posts", sign));
        writes.push(ViewWrite::add(view, key, "views", sign * post.views as i64));
        writes.push(ViewWrite::add(view, key, "likes", sign * post.likes as i64));
    }
}

/// The counters per author and in total: a change subtracts the post it
/// replaces and adds the post it writes, so a post that moves to another
/// author moves its counts with it.
pub fn summaries() -> impl Projection {
    projection::from_fn("summaries", |change: &Change| {
        let mut writes = Vec::new();
        if let Some(before) = change.before::<Post>()? {
            counters(&mut writes, &before, -1);
        }
        if let Some(after) = change.after::<Post>()? {
            counters(&mut writes, &after, 1);
        }
        Ok(writes)
    })
}

/// The [`TOP_SIZE`] most viewed posts: a post is ranked by its views,
/// and leaves the index when it is deleted.
pub fn most_viewed() -> impl Projection {
    projection::from_fn("most-viewed", |change: &Change| {
        Ok(vec![match change.after::<Post>()? {
            Some(post) => ViewWrite::rank(MOST_VIEWED, ALL, change.key(), post.views as f64, TOP_SIZE),
            None => ViewWrite::unrank(MOST_VIEWED, ALL, change.key()),
        }])
    })
}

/// The projector of the reports on `store`.
pub fn projector(store: Arc<dyn ViewStore>) -> Projector {
    Projector::new(store).projection(summaries()).projection(most_viewed())
}

/// The projector of the reports on the views store halo's one store rule
/// picks: the DynamoDB table `HALO_VIEWS_TABLE` names (required inside
/// Lambda), in memory in a local run.
///
/// # Errors
///
/// Inside Lambda without `HALO_VIEWS_TABLE`.
pub async fn projector_from_env() -> Result<Projector, StoreError> {
    Ok(Projector::from_env().await?.projection(summaries()).projection(most_viewed()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use halo::projection::MemoryViews;

    fn post(author: &str, views: u64) -> Value {
        json!({"id": "p1", "author": author, "title": "t", "views": views, "likes": 1})
    }

    #[tokio::test]
    async fn a_post_moved_to_another_author_moves_its_counts() {
        let projector = projector(Arc::new(MemoryViews::new()));
        projector.apply(&Change::new("p1", 1, None, Some(post("ada", 5)))).await.unwrap();
        projector.apply(&Change::new("p1", 2, Some(post("ada", 5)), Some(post("bob", 7)))).await.unwrap();
        let ada: Value = projector.view(AUTHOR_SUMMARY, "ada").await.unwrap().unwrap();
        let bob: Value = projector.view(AUTHOR_SUMMARY, "bob").await.unwrap().unwrap();
        let totals: Value = projector.view(TOTALS, ALL).await.unwrap().unwrap();
        assert_eq!(ada, json!({"posts": 0, "views": 0, "likes": 0}));
        assert_eq!(bob, json!({"posts": 1, "views": 7, "likes": 1}));
        assert_eq!(totals, json!({"posts": 1, "views": 7, "likes": 1}));
        projector.apply(&Change::new("p1", 3, Some(post("bob", 7)), None)).await.unwrap();
        let top: Value = projector.view(MOST_VIEWED, ALL).await.unwrap().unwrap();
        assert_eq!(top, json!({"entries": []}));
    }
}

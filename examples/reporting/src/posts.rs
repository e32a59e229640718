//! The posts: the record, what a write may hold, and the posts table
//! (DynamoDB with its stream, or memory in a local run).
//!
//! A write replaces the whole post (`PutItem`) and a delete removes it:
//! both leave the same table when they are applied twice, so a write whose
//! answer was lost and which the SDK sends again changes nothing more (and
//! a second identical image nets to nothing in the views).

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use halo::durable::dynamodb::{Item, ItemView, Table, to_n, to_s};
use halo::durable::{Fallback, MemoryMap, StoreChoice, StoreConfigError, choose_store};
use halo::projection::Change;
use serde::{Deserialize, Serialize};

/// The longest id or author name.
pub const MAX_NAME: usize = 64;
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The highest view or like count a write may hold (well within the
/// integers JSON and the views' signed counters carry exactly).
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// One post as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Its id (the table's key).
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// Its title.
    pub title: String,
    /// How many times it was viewed.
    pub views: u64,
    /// How many likes it has.
    pub likes: u64,
}

/// The body of `PUT /posts/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    /// Who wrote it.
    pub author: String,
    /// Its title.
    pub title: String,
    /// How many times it was viewed.
    #[serde(default)]
    pub views: u64,
    /// How many likes it has.
    #[serde(default)]
    pub likes: u64,
}

/// Whether `name` is a valid id or author: 1 to [`MAX_NAME`] letters,
/// digits, `-` or `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl PostInput {
    /// The post `id` this input writes.
    ///
    /// # Errors
    ///
    /// `422` naming the field that is out of bounds.
    pub fn into_post(self, id: &str) -> Result<Post, halo::Error> {
        if !valid_name(id) {
            return Err(halo::Error::unprocessable(format!(
                "a post id has 1 to {MAX_NAME} letters, digits, `-` or `_`"
            )));
        }
        if !valid_name(&self.author) {
            return Err(halo::Error::unprocessable(format!(
                "`author` has 1 to {MAX_NAME} letters, digits, `-` or `_`"
            )));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(halo::Error::unprocessable(format!("`title` must have 1 to {MAX_TITLE} characters")));
        }
        if self.views > MAX_COUNT || self.likes > MAX_COUNT {
            return Err(halo::Error::unprocessable(format!("`views` and `likes` are at most {MAX_COUNT}")));
        }
        Ok(Post {
            id: id.to_owned(),
            author: self.author,
            title: title.to_owned(),
            views: self.views,
            likes: self.likes,
        })
    }
}

/// The posts in this process, with the changes a stream would carry.
#[derive(Debug, Default)]
pub struct MemoryPosts {
    posts: MemoryMap<Post>,
    sequence: AtomicU64,
}

impl MemoryPosts {
    fn change(&self, id: &str, before: Option<Post>, after: Option<&Post>) -> Change {
        let sequence = u128::from(self.sequence.fetch_add(1, Ordering::SeqCst) + 1);
        let image = |post: &Post| serde_json::to_value(post).expect("a post is JSON");
        Change::new(id, sequence, before.as_ref().map(image), after.map(image))
    }
}

/// The posts table.
#[derive(Debug)]
#[non_exhaustive]
pub enum Posts {
    /// In this process: each write returns its change, which the caller
    /// applies to the views itself (there is no stream).
    Memory(MemoryPosts),
    /// A DynamoDB table (key `id`) whose stream feeds the projector.
    DynamoDb(Table),
}

fn item(post: &Post) -> Item {
    Item::from([
        ("id".to_owned(), to_s(&post.id)),
        ("author".to_owned(), to_s(&post.author)),
        ("title".to_owned(), to_s(&post.title)),
        ("views".to_owned(), to_n(post.views)),
        ("likes".to_owned(), to_n(post.likes)),
    ])
}

fn key(id: &str) -> Item {
    Item::from([("id".to_owned(), AttributeValue::S(id.to_owned()))])
}

fn post(item: &Item) -> Result<Post, halo::Error> {
    let view = ItemView::new(item, "a post");
    let malformed = |cause: String| halo::Error::internal(cause);
    Ok(Post {
        id: view.required_string("id").map_err(malformed)?,
        author: view.required_string("author").map_err(malformed)?,
        title: view.required_string("title").map_err(malformed)?,
        views: view.required_number("views").map_err(malformed)?,
        likes: view.required_number("likes").map_err(malformed)?,
    })
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the posts table is unavailable; retry later").with_source(err)
}

impl Posts {
    /// The posts table by halo's one store rule: the DynamoDB table
    /// `POSTS_TABLE` names (required inside Lambda), else memory.
    ///
    /// # Errors
    ///
    /// Inside Lambda without `POSTS_TABLE`.
    pub async fn from_env() -> Result<Posts, StoreConfigError> {
        Ok(match choose_store("posts", "POSTS_TABLE", Fallback::InitError)? {
            StoreChoice::DynamoDb { table } => {
                Posts::DynamoDb(Table::new(halo::platform::dynamodb_client().await, table))
            }
            StoreChoice::Memory => Posts::Memory(MemoryPosts::default()),
        })
    }

    /// Writes `post` whole. In memory, returns the change for the caller
    /// to apply to the views.
    ///
    /// # Errors
    ///
    /// `503` when the table cannot be reached.
    pub async fn put(&self, post: &Post) -> Result<Option<Change>, halo::Error> {
        match self {
            Posts::Memory(memory) => {
                let before = memory.posts.insert(post.id.clone(), post.clone());
                Ok(Some(memory.change(&post.id, before, Some(post))))
            }
            Posts::DynamoDb(table) => {
                let put = table.client().put_item().table_name(table.name()).set_item(Some(item(post)));
                put.send().await.map_err(unavailable)?;
                Ok(None)
            }
        }
    }

    /// Deletes the post `id` (nothing when there is none). In memory,
    /// returns the change for the caller to apply to the views.
    ///
    /// # Errors
    ///
    /// `503` when the table cannot be reached.
    pub async fn delete(&self, id: &str) -> Result<Option<Change>, halo::Error> {
        match self {
            Posts::Memory(memory) => Ok(memory.posts.remove(id).map(|before| memory.change(id, Some(before), None))),
            Posts::DynamoDb(table) => {
                let delete = table.client().delete_item().table_name(table.name()).set_key(Some(key(id)));
                delete.send().await.map_err(unavailable)?;
                Ok(None)
            }
        }
    }

    /// The post `id`, read from the table (consistent: a post reads its
    /// own write, which the views do only once the stream has carried it).
    ///
    /// # Errors
    ///
    /// `503` when the table cannot be reached, `500` for an item that is
    /// not a post.
    pub async fn get(&self, id: &str) -> Result<Option<Post>, halo::Error> {
        match self {
            Posts::Memory(memory) => Ok(memory.posts.get(id)),
            Posts::DynamoDb(table) => match table.get(|| key(id)).await? {
                Some(item) => post(&item).map(Some),
                None => Ok(None),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(author: &str, title: &str, views: u64) -> PostInput {
        PostInput { author: author.into(), title: title.into(), views, likes: 0 }
    }

    #[test]
    fn a_write_out_of_bounds_is_refused_naming_the_field() {
        let refused = |result: Result<Post, halo::Error>| result.unwrap_err().message().to_owned();
        assert!(refused(input("ada", "t", 0).into_post("a/b")).contains("post id"));
        assert!(refused(input("a#b", "t", 0).into_post("p1")).contains("`author`"));
        assert!(refused(input("ada", "  ", 0).into_post("p1")).contains("`title`"));
        assert!(refused(input("ada", "t", MAX_COUNT + 1).into_post("p1")).contains("`views`"));
        assert_eq!(input("ada", " hello ", 3).into_post("p1").unwrap().title, "hello");
    }

    #[tokio::test]
    async fn memory_writes_carry_their_change_in_order() {
        let posts = Posts::Memory(MemoryPosts::default());
        let post = input("ada", "t", 1).into_post("p1").unwrap();
        let first = posts.put(&post).await.unwrap().unwrap();
        let second = posts.delete("p1").await.unwrap().unwrap();
        assert!(first.is_insert() && second.is_removal());
        assert!(second.sequence() > first.sequence());
        assert!(posts.delete("p1").await.unwrap().is_none(), "deleting nothing is no change");
    }
}

//! Attribute codecs: values into DynamoDB attributes ([`to_s`], [`to_n`])
//! and back ([`ItemView`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// A DynamoDB item: attribute names to values.
pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn to_s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub fn to_n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Reads the attributes of an item, with errors that name the attribute
/// and what the item is (for a malformed record's log line).
///
/// ```
/// use halo::durable::dynamodb::{ItemView, to_n, to_s};
///
/// let item = [("id".to_owned(), to_s("a")), ("version".to_owned(), to_n(3))].into_iter().collect();
/// let view = ItemView::new(&item, "the todo item");
/// assert_eq!(view.required_string("id").unwrap(), "a");
/// assert_eq!(view.required_number("version").unwrap(), 3);
/// assert_eq!(view.number("missing").unwrap(), None);
/// assert!(view.required_string("title").unwrap_err().contains("the todo item has no string `title`"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    item: &'a Item,
    what: &'static str,
}

impl<'a> ItemView<'a> {
    /// A view of `item`; `what` names it in errors (`"the job item"`).
    pub fn new(item: &'a Item, what: &'static str) -> ItemView<'a> {
        ItemView { item, what }
    }

    /// The string attribute `name`, if present and a string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.item.get(name).and_then(|v| v.as_s().ok()).cloned()
    }

    /// The string attribute `name`, or an error naming it.
    pub fn required_string(&self, name: &str) -> Result<String, String> {
        self.string(name).ok_or_else(|| format!("{} has no string `{name}`", self.what))
    }

    /// The whole number attribute `name` (`None` when absent). A fractional
    /// number (as other writers may store epoch times) keeps its whole part.
    pub fn number(&self, name: &str) -> Result<Option<u64>, String> {
        let Some(value) = self.item.get(name) else { return Ok(None) };
        let text = value.as_n().map_err(|_| format!("`{name}` of {} is not a number", self.what))?;
        let whole = text.split('.').next().unwrap_or(text);
        whole.parse().map(Some).map_err(|_| format!("`{name}` of {} is not a whole number: {text}", self.what))
    }

    /// The whole number attribute `name`, or an error naming it.
    pub fn required_number(&self, name: &str) -> Result<u64, String> {
        self.number(name)?.ok_or_else(|| format!("{} has no number `{name}`", self.what))
    }

    /// The boolean attribute `name` (`false` when absent).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.item.get(name), Some(AttributeValue::Bool(true)))
    }
}

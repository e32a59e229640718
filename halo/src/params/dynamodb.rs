//! [`DynamoDbSource`]: parameters in a DynamoDB table, in the layout
//! Powertools for AWS Lambda reads.

use aws_sdk_dynamodb::types::AttributeValue;

use super::aws_error::sdk_error;
use super::error::{ParamsError, ParamsErrorKind};
use super::provider::{Parameter, ParameterKind, Source};
use crate::durable::dynamodb::{Item, to_s};
use crate::future::BoxFuture;

/// DynamoDB's item size limit: 400 KB.
const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Parameters in a DynamoDB table, in Powertools' layout: a partition key
/// `id` and a `value` attribute.
///
/// - **One parameter per item**: [`get`](super::Params::get) reads the item
///   whose `id` is the name (`GetItem`).
/// - **A set under one partition key**: with a sort key `sk`,
///   [`load`](super::Params::load) of a path reads every item whose `id`
///   is the path (`Query`, every page); each item's `sk` is a field, so
///   items `{id: "shop-config", sk: "db/host"}` and `{id: "shop-config",
///   sk: "greeting"}` load into `{ db: { host }, greeting }`.
///
/// A `value` is a string (a string field gets it, other types parse it as
/// JSON), a number or a boolean. Reads are strongly consistent. The
/// attribute names are settings, for a table of another layout.
///
/// ```no_run
/// # async fn init() -> Result<(), halo::params::ParamsError> {
/// use halo::params::{DynamoDbSource, Params};
///
/// #[derive(serde::Deserialize)]
/// struct Settings { greeting: String, max_items: u32 }
///
/// let params = Params::new(DynamoDbSource::from_env("shop-parameters").await);
/// let settings = params.load::<Settings>("shop-config").await?; // one Query
/// let banner: String = params.get("banner").await?; // one GetItem
/// # let _ = (settings, banner);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbSource {
    client: aws_sdk_dynamodb::Client,
    table: String,
    key_attribute: String,
    sort_attribute: String,
    value_attribute: String,
}

impl DynamoDbSource {
    /// Reads the table `table` through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoDbSource {
        DynamoDbSource {
            client,
            table: table.into(),
            key_attribute: "id".to_owned(),
            sort_attribute: "sk".to_owned(),
            value_attribute: "value".to_owned(),
        }
    }

    /// Reads the table `table` through the container's shared DynamoDB
    /// client ([`crate::platform::dynamodb_client`]).
    pub async fn from_env(table: impl Into<String>) -> DynamoDbSource {
        DynamoDbSource::new(crate::platform::dynamodb_client().await, table)
    }

    /// The partition key's attribute (`id` by default).
    #[must_use]
    pub fn key_attribute(mut self, name: impl Into<String>) -> DynamoDbSource {
        self.key_attribute = name.into();
        self
    }

    /// The sort key's attribute (`sk` by default).
    #[must_use]
    pub fn sort_attribute(mut self, name: impl Into<String>) -> DynamoDbSource {
        self.sort_attribute = name.into();
        self
    }

    /// The value's attribute (`value` by default).
    #[must_use]
    pub fn value_attribute(mut self, name: impl Into<String>) -> DynamoDbSource {
        self.value_attribute = name.into();
        self
    }

    async fn one(&self, name: &str) -> Result<Parameter, ParamsError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(&self.key_attribute, to_s(name))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(e, "DynamoDB", "GetItem", name, dynamodb_kind))?;
        let item =
            output.item.ok_or_else(|| ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(name))?;
        self.parameter(name, &item)
    }

    async fn set(&self, path: &str) -> Result<Vec<Parameter>, ParamsError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#key = :key")
                .expression_attribute_names("#key", &self.key_attribute)
                .expression_attribute_values(":key", to_s(path))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(e, "DynamoDB", "Query", path, dynamodb_kind))?;
            for item in page.items.unwrap_or_default() {
                let Some(AttributeValue::S(sort)) = item.get(&self.sort_attribute) else {
                    return Err(ParamsError::new(
                        ParamsErrorKind::Invalid,
                        format!("an item has no string `{}` (the sort key)", self.sort_attribute),
                    )
                    .at(path));
                };
                let name = format!("{}/{}", path.trim_end_matches('/'), sort.trim_start_matches('/'));
                out.push(self.parameter(&name, &item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }

    /// The item's value as a parameter named `name`.
    fn parameter(&self, name: &str, item: &Item) -> Result<Parameter, ParamsError> {
        let value = match item.get(&self.value_attribute) {
            Some(AttributeValue::S(text)) => text.clone(),
            Some(AttributeValue::N(number)) => number.clone(),
            Some(AttributeValue::Bool(flag)) => flag.to_string(),
            Some(_) => {
                return Err(ParamsError::new(
                    ParamsErrorKind::Invalid,
                    format!("`{}` is not a string, a number or a boolean", self.value_attribute),
                )
                .at(name));
            }
            None => {
                return Err(ParamsError::new(
                    ParamsErrorKind::Invalid,
                    format!("the item has no `{}` attribute", self.value_attribute),
                )
                .at(name));
            }
        };
        let parameter = Parameter::new(name, value, ParameterKind::String).with_size_limit(MAX_ITEM_BYTES);
        parameter.check_size()?;
        Ok(parameter)
    }
}

impl Source for DynamoDbSource {
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(futures_util::future::try_join_all(names.iter().map(|name| self.one(name))))
    }

    fn get_by_path<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(self.set(path))
    }

    fn name(&self) -> &'static str {
        "dynamodb"
    }
}

/// DynamoDB's own error codes.
fn dynamodb_kind(code: &str) -> Option<ParamsErrorKind> {
    match code {
        "ResourceNotFoundException" => Some(ParamsErrorKind::Config),
        _ => None,
    }
}

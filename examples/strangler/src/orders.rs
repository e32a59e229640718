//! The new service's orders: the record, what a create may hold, the
//! orders table (DynamoDB, or memory in a local run) and the event each
//! write publishes for the legacy service.

use aws_sdk_dynamodb::types::AttributeValue;
use halo::durable::dynamodb::{Item, ItemView, Table, to_n, to_s};
use halo::durable::{Fallback, MemoryMap, StoreChoice, StoreConfigError, choose_store};
use serde::{Deserialize, Serialize};

/// The longest customer id.
pub const MAX_CUSTOMER: usize = 64;
/// The largest total, in cents.
pub const MAX_TOTAL: u64 = 100_000_000;

/// An order as both systems show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: String,
    /// Who ordered.
    pub customer: String,
    /// Its total, in cents.
    pub total: u64,
    /// `open` when created.
    pub status: String,
}

/// The body of `POST /orders`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Who orders: 1 to [`MAX_CUSTOMER`] letters, digits, `-` or `_`.
    pub customer: String,
    /// The total, in cents: 1 to [`MAX_TOTAL`].
    pub total: u64,
}

impl NewOrder {
    /// The order `id` this creates.
    ///
    /// # Errors
    ///
    /// `422` naming the field out of bounds (never its value).
    pub fn into_order(self, id: String) -> Result<Order, halo::Error> {
        let customer_ok = !self.customer.is_empty()
            && self.customer.len() <= MAX_CUSTOMER
            && self.customer.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !customer_ok {
            return Err(halo::Error::unprocessable(format!(
                "`customer` has 1 to {MAX_CUSTOMER} letters, digits, `-` or `_`"
            )));
        }
        if self.total == 0 || self.total > MAX_TOTAL {
            return Err(halo::Error::unprocessable(format!("`total` is 1 to {MAX_TOTAL} cents")));
        }
        Ok(Order { id, customer: self.customer, total: self.total, status: "open".to_owned() })
    }
}

/// What the new service publishes for each order it writes: the write's
/// id (the same on every retry of the request that made it) and the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderWritten {
    /// The write's idempotency token.
    pub write_id: String,
    /// The order as written.
    pub order: Order,
}

/// The new service's orders table.
#[derive(Debug)]
#[non_exhaustive]
pub enum Orders {
    /// In this process (a local run).
    Memory(MemoryMap<Order>),
    /// The DynamoDB table `ORDERS_TABLE` (key `id`).
    DynamoDb(Table),
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the orders table is unavailable; retry later").with_source(err)
}

impl Orders {
    /// The table by halo's one store rule: `ORDERS_TABLE` in DynamoDB
    /// (required inside Lambda), else memory.
    ///
    /// # Errors
    ///
    /// Inside Lambda without `ORDERS_TABLE`.
    pub async fn from_env() -> Result<Orders, StoreConfigError> {
        Ok(match choose_store("orders", "ORDERS_TABLE", Fallback::InitError)? {
            StoreChoice::DynamoDb { table } => {
                Orders::DynamoDb(Table::new(halo::platform::dynamodb_client().await, table))
            }
            StoreChoice::Memory => Orders::Memory(MemoryMap::new()),
        })
    }

    /// Writes `order` (the same order written again, a retry, changes
    /// nothing: its id comes from the request's idempotency token).
    ///
    /// # Errors
    ///
    /// `503` when the table cannot be reached.
    pub async fn put(&self, order: &Order) -> Result<(), halo::Error> {
        match self {
            Orders::Memory(orders) => {
                orders.insert(order.id.clone(), order.clone());
            }
            Orders::DynamoDb(table) => {
                let item = Item::from([
                    ("id".to_owned(), to_s(&order.id)),
                    ("customer".to_owned(), to_s(&order.customer)),
                    ("total".to_owned(), to_n(order.total)),
                    ("status".to_owned(), to_s(&order.status)),
                ]);
                table
                    .client()
                    .put_item()
                    .table_name(table.name())
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(())
    }

    /// The order `id`.
    ///
    /// # Errors
    ///
    /// `503` when the table cannot be reached; `500` for an item that is
    /// not an order.
    pub async fn get(&self, id: &str) -> Result<Option<Order>, halo::Error> {
        match self {
            Orders::Memory(orders) => Ok(orders.get(id)),
            Orders::DynamoDb(table) => {
                let key = || Item::from([("id".to_owned(), AttributeValue::S(id.to_owned()))]);
                let Some(item) = table.get(key).await? else { return Ok(None) };
                let view = ItemView::new(&item, "an order");
                let malformed = |cause: String| halo::Error::internal(cause);
                Ok(Some(Order {
                    id: view.required_string("id").map_err(malformed)?,
                    customer: view.required_string("customer").map_err(malformed)?,
                    total: view.required_number("total").map_err(malformed)?,
                    status: view.required_string("status").map_err(malformed)?,
                }))
            }
        }
    }
}

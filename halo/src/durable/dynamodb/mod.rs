//! The DynamoDB side of the kernel (feature `dynamodb`): a store's
//! [`Table`] (its creation from a [`TableSpec`](super::TableSpec) and its
//! consistent read), conditional writes sorted into [`Written`] with the
//! current item of a refused write, and attribute codecs.

mod attr;
mod conditional;
mod table;

pub use attr::{Item, ItemView, to_n, to_s};
pub use conditional::{ConditionalFailure, Written, store_error};
pub use table::Table;

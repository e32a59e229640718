//! The order and its validation.

use serde::{Deserialize, Serialize};

/// An order as the API accepts it and the queue carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// The tracking id, set by the API.
    #[serde(default)]
    pub tracking_id: String,
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
}

/// The most items one order may hold.
pub const MAX_QUANTITY: u32 = 1000;

impl Order {
    /// Checks what the API accepts: a SKU of 1 to 64 characters and a
    /// quantity from 1 to [`MAX_QUANTITY`].
    pub fn validate(&self) -> Result<(), halo::Error> {
        if self.sku.is_empty() || self.sku.len() > 64 {
            return Err(halo::Error::unprocessable("`sku` must have 1 to 64 characters"));
        }
        if self.quantity == 0 || self.quantity > MAX_QUANTITY {
            return Err(halo::Error::unprocessable(format!("`quantity` must be between 1 and {MAX_QUANTITY}")));
        }
        Ok(())
    }
}

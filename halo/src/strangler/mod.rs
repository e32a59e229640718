#![doc = include_str!("../../docs/strangler.md")]

mod facade;
mod forward;
mod routing;
mod shadow;

pub use facade::Strangler;
pub use forward::Legacy;
pub use routing::{RouteMode, Routing};

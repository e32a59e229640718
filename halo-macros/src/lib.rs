//! Attribute macros of halo. Use them through the `halo` crate
//! (`#[halo::handler]`); the documentation lives there.
//!
//! Each macro is parse → validate → expand: it parses its arguments with
//! the one argument model of `args.rs` (`key = value`, `key(...)`, string
//! durations with `_ms` aliases), validates the function with the one
//! signature model of `signature.rs`, and expands to `::halo::...` paths.
//! Errors name the attribute (`#[halo::handler]`), point at the offending
//! token and say what to write; with an error, the user's function is
//! kept. A function that does not parse (a syntax error while editing) is
//! emitted unchanged, so rustc's syntax error is the only one. No macro
//! reads another attribute's tokens.

use proc_macro::TokenStream;

mod args;
mod circuit_breaker;
mod expand;
mod handler;
mod http;
mod idempotent;
mod saga_step;
mod signature;

/// Marks an async fn as the Lambda handler and generates `main`; see
/// `halo::handler` for the full documentation.
#[proc_macro_attribute]
pub fn handler(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(args.into(), input.into()).into()
}

/// Serves the axum `Router` a function builds, on Lambda and locally, and
/// generates `main`; see `halo::http` (the macro) for the full
/// documentation.
#[proc_macro_attribute]
pub fn http(args: TokenStream, input: TokenStream) -> TokenStream {
    http::expand(args.into(), input.into()).into()
}

/// Makes an async fn idempotent: one run per payload, the stored result
/// replayed for duplicates; see `halo::idempotent` for the full
/// documentation.
#[proc_macro_attribute]
pub fn idempotent(args: TokenStream, input: TokenStream) -> TokenStream {
    idempotent::expand(args.into(), input.into()).into()
}

/// Makes an async fn a saga step with an optional compensation; see
/// `halo::saga_step` for the full documentation.
#[proc_macro_attribute]
pub fn saga_step(args: TokenStream, input: TokenStream) -> TokenStream {
    saga_step::expand(args.into(), input.into()).into()
}

/// Guards an async fn with a circuit breaker shared by the fleet, with an
/// optional fallback; see `halo::circuit_breaker` for the full
/// documentation.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, input: TokenStream) -> TokenStream {
    circuit_breaker::expand(args.into(), input.into()).into()
}

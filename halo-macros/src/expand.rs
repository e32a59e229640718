//! What the macros' expansions share: keeping the user's function when
//! validation fails, the generated `main`, and the `metrics` flag.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

/// `expansion`, or for an error: the error, the user's function unchanged
/// and `fallback` (a stub `main` for the macros that generate one), so the
/// one error shown is ours, not a cascade of "not found" errors.
pub(crate) fn or_keep_function(
    function: &ItemFn,
    fallback: TokenStream,
    expansion: syn::Result<TokenStream>,
) -> TokenStream {
    match expansion {
        Ok(tokens) => tokens,
        Err(err) => {
            let err = err.into_compile_error();
            quote! { #err #function #fallback }
        }
    }
}

/// A `main` that runs `run` (a future of `ExitCode`) on halo's tokio
/// runtime (`halo::platform::block_on`).
pub(crate) fn main_running(run: TokenStream) -> TokenStream {
    quote! {
        #[allow(dead_code)]
        fn main() -> ::std::process::ExitCode {
            ::halo::__private::block_on(#run)
        }
    }
}

/// The `::halo::Options` call of a `metrics` flag (`#[halo::handler]`,
/// `#[halo::http]`): required (`true`), off (`false`), or the
/// environment's (absent: nothing to add).
pub(crate) fn metrics_option(metrics: Option<bool>) -> TokenStream {
    match metrics {
        Some(true) => quote! { .metrics(::halo::metrics::MetricsConfig::from_env().required()) },
        Some(false) => quote! { .metrics(::halo::metrics::MetricsConfig::from_env().disabled(true)) },
        None => TokenStream::new(),
    }
}

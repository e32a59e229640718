//! What the macros' expansions share: reading the function (or keeping
//! what does not parse as one), keeping the user's function when
//! validation fails, the generated `main`, and the `metrics` flag.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

/// The function the attribute is on; or, when there is none, what to
/// emit instead.
///
/// A fn that does not parse (a syntax error while editing) is emitted
/// unchanged: rustc reports its syntax error, and the function is still
/// defined for its callers, so that error is the only one. An item that
/// parses but is not a fn (a struct) is kept too, with an error on it
/// saying where `#[{attr}]` goes (`expected`, e.g. "an `async fn`"). Both
/// are followed by `fallback`, as for a function that fails validation
/// ([`or_keep_function`]): the stub `main` of the macros that generate one.
pub(crate) fn function(
    attr: &str,
    expected: &str,
    input: TokenStream,
    fallback: &TokenStream,
) -> Result<ItemFn, TokenStream> {
    if let Ok(function) = syn::parse2::<ItemFn>(input.clone()) {
        return Ok(function);
    }
    match syn::parse2::<syn::Item>(input.clone()) {
        Ok(item) if !matches!(item, syn::Item::Fn(_) | syn::Item::Verbatim(_)) => {
            let err = syn::Error::new_spanned(&item, format!("`#[{attr}]` goes on {expected}"));
            let err = err.into_compile_error();
            Err(quote! { #err #item #fallback })
        }
        _ => Err(quote! { #input #fallback }),
    }
}

/// The stub `main` of `#[halo::handler]` and `#[halo::http]` when they
/// do not expand, so that a missing `main` is not one more error.
pub(crate) fn stub_main() -> TokenStream {
    quote! { fn main() {} }
}

/// `expansion`, or for an error: the error, the user's function unchanged
/// and `fallback` (a stub `main` for the macros that generate one), so the
/// one error shown is ours, not a cascade of "not found" errors.
pub(crate) fn or_keep_function(
    function: &ItemFn,
    fallback: &TokenStream,
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

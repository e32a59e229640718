//! `#[halo::http]`: parse → validate → expand. Parses `init` and
//! `metrics`, validates a function that builds an axum `Router` and
//! generates a `main` that serves it with `::halo::http::run` (or
//! `::halo::http::run_with_init`, `::halo::http::run_with_options`). On an
//! error the function is kept unchanged, with a stub `main`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Path, ReturnType};

use crate::args::{Args, Key};
use crate::expand;
use crate::signature::Signature;

const MACRO: &str = "halo::http";
const KEYS: &[Key] = &[Key::new("init"), Key::new("metrics")];

/// The arguments of `#[halo::http(...)]`.
struct Options {
    /// `init = path`.
    init: Option<Path>,
    /// `metrics`: required (`true`) or off (`false`).
    metrics: Option<bool>,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let fallback = expand::stub_main();
    let function = match expand::function(MACRO, "a `fn` that builds an `axum::Router`", input, &fallback) {
        Ok(function) => function,
        Err(kept) => return kept,
    };
    let expansion = parse(args).and_then(|options| {
        validate(&function, options.init.is_some())?;
        Ok(expand_valid(&function, options))
    });
    expand::or_keep_function(&function, &fallback, expansion)
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let options = Options { init: args.take_path("init")?, metrics: args.take_flag("metrics")? };
    args.finish()?;
    Ok(options)
}

fn expand_valid(function: &ItemFn, options: Options) -> TokenStream {
    // Spanned on the return type, so a function that returns something
    // other than a `Router` gets its type error there.
    let output = match &function.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => function.sig.ident.span(),
    };
    let name = syn::Ident::new(&function.sig.ident.to_string(), output);
    let run = match (options.init, options.metrics) {
        (Some(init), None) => {
            let build = quote_spanned! { output=> #init().await.map(#name) };
            quote! { ::halo::http::run_with_init(async { #build }) }
        }
        (None, None) => {
            let router = quote_spanned! { output=> #name() };
            quote! { ::halo::http::run(#router) }
        }
        (init, metrics) => {
            let build = match init {
                Some(init) => quote_spanned! { output=> #init().await.map(#name) },
                None => quote_spanned! { output=> ::std::result::Result::<_, ::std::convert::Infallible>::Ok(#name()) },
            };
            let options = expand::metrics_option(metrics);
            quote! { ::halo::http::run_with_options(::halo::Options::from_env() #options, async { #build }) }
        }
    };
    let main = expand::main_running(run);
    quote! { #function #main }
}

/// A plain, free `fn` returning the router, taking the state when there
/// is an `init`.
fn validate(function: &ItemFn, has_init: bool) -> syn::Result<()> {
    let signature = Signature::new(MACRO, function);
    signature.require_not_async(
        "that builds the router; do async set-up in `init = path` (an `async fn` returning `Result<S, E>`) \
         and take `S` as the parameter",
    )?;
    signature.require_free("name the router's state type")?;
    if has_init {
        signature.require_param_count(1, "one parameter with `init`: the state that `init` returns")?;
    } else if signature.param_count() != 0 {
        return Err(signature.params_error(
            "without `init` takes no parameters: add `init = path` to receive the state that `init` builds",
        ));
    }
    signature.require_return("`axum::Router`")?;
    Ok(())
}

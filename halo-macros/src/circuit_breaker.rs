//! `#[halo::circuit_breaker(name = "...", ...)]`: parse → validate →
//! expand. Parses the breaker's name, its `BreakerPolicy` and the fallback,
//! validates the guarded function (a free, non-generic `async fn` with
//! named parameters and a result) and wraps it with a breaker built once
//! per container (`halo::breaker::from_env`). On an error the function is
//! kept unchanged, so its callers still compile.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, Path, Type};

use crate::args::{Args, Key, Millis};
use crate::expand;
use crate::signature::{Param, Signature};

const MACRO: &str = "halo::circuit_breaker";
const KEYS: &[Key] = &[
    Key::new("name"),
    Key::new("consecutive_failures"),
    Key::new("failure_rate"),
    Key::new("window"),
    Key::new("min_calls"),
    Key::new("open_for"),
    Key::new("max_open_for"),
    Key::new("half_open_probes"),
    Key::new("close_after"),
    Key::new("half_open_timeout"),
    Key::new("refresh"),
    Key::new("fallback"),
];

/// The macro's arguments.
struct Options {
    name: LitStr,
    consecutive_failures: Option<u32>,
    /// `(rate, window, min_calls)`
    failure_rate: Option<(f64, Option<Millis>, Option<u32>)>,
    open_for: Option<Millis>,
    max_open_for: Option<Millis>,
    half_open_probes: Option<u32>,
    close_after: Option<u32>,
    half_open_timeout: Option<Millis>,
    refresh: Option<Millis>,
    fallback: Option<Path>,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let fallback = TokenStream::new();
    let function = match expand::function(MACRO, "an `async fn` returning `Result<T, E>`", input, &fallback) {
        Ok(function) => function,
        Err(kept) => return kept,
    };
    let expansion = parse(args).and_then(|options| {
        let params = validate(&function)?;
        Ok(expand_valid(&function, &params, &options))
    });
    expand::or_keep_function(&function, &fallback, expansion)
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let name = args.take_str("name")?;
    let consecutive_failures = args.take_int::<u32>("consecutive_failures")?;
    let failure_rate = match rate(&mut args)? {
        Some(rate) => Some((rate, args.take_duration("window")?, args.take_int::<u32>("min_calls")?)),
        None => {
            if let Some(key) = args.given("window").or_else(|| args.given("min_calls")) {
                return Err(syn::Error::new_spanned(key, format!("`{key}` goes with `failure_rate = 0.5`")));
            }
            None
        }
    };
    let open_for = args.take_duration("open_for")?;
    let max_open_for = args.take_duration("max_open_for")?;
    let half_open_probes = args.take_int::<u32>("half_open_probes")?;
    let close_after = args.take_int::<u32>("close_after")?;
    let half_open_timeout = args.take_duration("half_open_timeout")?;
    let refresh = args.take_duration("refresh")?;
    let fallback = args.take_path("fallback")?;
    args.finish()?;
    let name = match name {
        Some(lit) if valid_name(&lit.value()) => lit,
        Some(lit) => {
            return Err(syn::Error::new_spanned(lit, "`name` is a string of 1 to 64 characters from [A-Za-z0-9._-]"));
        }
        None => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("`#[{MACRO}]` needs `name = \"...\"`: the breaker's name, shared by every container"),
            ));
        }
    };
    Ok(Options {
        name,
        consecutive_failures,
        failure_rate,
        open_for,
        max_open_for,
        half_open_probes,
        close_after,
        half_open_timeout,
        refresh,
        fallback,
    })
}

/// `failure_rate = 0.5`: a share of failures above 0, at most 1.
fn rate(args: &mut Args) -> syn::Result<Option<f64>> {
    const HINT: &str = "`failure_rate` is a share of failures, e.g. `failure_rate = 0.5`";
    match args.take_float("failure_rate").map_err(|err| syn::Error::new(err.span(), HINT))? {
        Some(rate) if rate.value > 0.0 && rate.value <= 1.0 => Ok(Some(rate.value)),
        Some(rate) => Err(syn::Error::new(rate.span, HINT)),
        None => Ok(None),
    }
}

/// A free, non-generic `async fn` with named parameters and a result:
/// its parameters.
fn validate(function: &ItemFn) -> syn::Result<Vec<Param<'_>>> {
    let signature = Signature::new(MACRO, function);
    signature.require_async("async fn name(...) -> Result<T, E>")?;
    signature.require_free("name the parameter and result types (call a generic fn from the guarded one)")?;
    let params = signature.named_params()?;
    signature.require_return("`Result<T, E>` (`E: From<halo::Error>`)")?;
    Ok(params)
}

fn policy(options: &Options) -> TokenStream {
    let mut policy = quote! { ::halo::breaker::BreakerPolicy::default() };
    if let Some(n) = options.consecutive_failures {
        policy = quote! { #policy.consecutive_failures(#n) };
    }
    if let Some((rate, window, min_calls)) = options.failure_rate {
        let window = window.map_or(30_000, |w| w.value);
        let min_calls = min_calls.unwrap_or(20);
        policy = quote! {
            #policy.failure_rate(#rate, ::std::time::Duration::from_millis(#window), #min_calls)
        };
    }
    if options.open_for.is_some() || options.max_open_for.is_some() {
        let base = options.open_for.map_or(5_000, |d| d.value);
        let max = options.max_open_for.map_or(300_000, |d| d.value);
        policy = quote! {
            #policy.open_for(::std::time::Duration::from_millis(#base), ::std::time::Duration::from_millis(#max))
        };
    }
    if options.half_open_probes.is_some() || options.close_after.is_some() {
        let probes = options.half_open_probes.unwrap_or(1);
        let close = options.close_after.unwrap_or(1);
        policy = quote! { #policy.half_open(#probes, #close) };
    }
    if let Some(timeout) = options.half_open_timeout {
        policy = quote! { #policy.half_open_timeout(#timeout) };
    }
    if let Some(every) = options.refresh {
        policy = quote! { #policy.refresh_every(#every) };
    }
    policy
}

fn expand_valid(function: &ItemFn, params: &[Param<'_>], options: &Options) -> TokenStream {
    let name = &options.name;
    let policy = policy(options);
    let sig = &function.sig;
    let attrs = &function.attrs;
    let vis = &function.vis;
    let block = &function.block;
    let inner = format_ident!("__halo_guarded_{}", sig.ident);
    let mut inner_sig = sig.clone();
    inner_sig.ident = inner.clone();

    // What the guarded call gets, and what the fallback gets. Without a
    // fallback, the parameters are moved into the call. With one, an
    // owned value is cloned for the fallback before the call; a reference
    // is lent to the call (`&mut *x` for `&mut T`) and then passed on as
    // it is, so a `&State` or a `&halo::Ctx` needs no `Clone`.
    let mut args = Vec::new();
    let mut saves = Vec::new();
    let mut fallback_args = Vec::new();
    for (index, param) in params.iter().enumerate() {
        let ident = param.ident;
        match (&options.fallback, param.ty) {
            (None, _) => args.push(quote! { #ident }),
            (Some(_), Type::Reference(reference)) => {
                args.push(match reference.mutability {
                    Some(_) => quote! { &mut *#ident },
                    None => quote! { #ident },
                });
                fallback_args.push(quote! { #ident });
            }
            (Some(_), _) => {
                let saved = format_ident!("__halo_saved{index}", span = Span::mixed_site());
                saves.push(quote! { let #saved = ::std::clone::Clone::clone(&#ident); });
                args.push(quote! { #ident });
                fallback_args.push(quote! { #saved });
            }
        }
    }
    let on_error = match &options.fallback {
        None => quote! { ::std::result::Result::Err(::std::convert::From::from(__halo_error)) },
        Some(path) => {
            let span = path.span();
            // Spanned on the user's `fallback = path`: a fallback whose
            // parameters or result do not fit is reported there.
            let call = quote_spanned! {span=>
                ::halo::breaker::run_fallback(::halo::breaker::FallbackReason::of(&__halo_error), #path(#(#fallback_args),*)).await
            };
            quote! {
                if __halo_breaker.is_failure(&__halo_error) {
                    #call
                } else {
                    ::std::result::Result::Err(::std::convert::From::from(__halo_error))
                }
            }
        }
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            #inner_sig #block
            static __HALO_BREAKER: ::halo::__private::LazyBreaker =
                ::halo::__private::LazyBreaker::new(#name, || #policy);
            let __halo_breaker = __HALO_BREAKER.get().await;
            #(#saves)*
            let __halo_result = __halo_breaker.call(#inner(#(#args),*)).await;
            match __halo_result {
                ::std::result::Result::Ok(__halo_value) => ::std::result::Result::Ok(__halo_value),
                ::std::result::Result::Err(__halo_error) => { #on_error }
            }
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

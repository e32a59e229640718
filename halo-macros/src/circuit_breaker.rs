//! `#[halo::circuit_breaker(name = "...", ...)]`: guards an async fn with a
//! breaker built once per container (`halo::breaker::from_env`), with an
//! optional fallback of the same signature.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, Pat, ReturnType};

use crate::args::{self, Arg};

const MACRO: &str = "halo::circuit_breaker";
const ALLOWED: &[&str] = &[
    "name",
    "consecutive_failures",
    "failure_rate",
    "window",
    "min_calls",
    "open_for",
    "max_open_for",
    "half_open_probes",
    "close_after",
    "half_open_timeout",
    "refresh",
    "fallback",
];

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let args = args::parse(MACRO, args, ALLOWED)?;
    let find = |key: &str| args.iter().find(|a| a.key == key);

    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(sig.fn_token.span(), format!("`#[{MACRO}]` guards an `async fn`: add `async`")));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&sig.generics, format!("`#[{MACRO}]` does not support generic functions")));
    }
    let mut idents = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new_spanned(
                    receiver,
                    format!("`#[{MACRO}]` guards free functions; call one from your method instead"),
                ));
            }
            FnArg::Typed(typed) => match typed.pat.as_ref() {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => idents.push(pat.ident.clone()),
                other => {
                    return Err(syn::Error::new_spanned(other, "name each parameter (`name: Type`), without patterns"));
                }
            },
        }
    }
    if matches!(sig.output, ReturnType::Default) {
        return Err(syn::Error::new(
            sig.paren_token.span.join(),
            "a guarded function returns `Result<T, E>` (`E: From<halo::Error>`)",
        ));
    }

    let Some(name_arg) = find("name") else {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!("`#[{MACRO}]` needs `name = \"...\"`: the breaker's name, shared by every container"),
        ));
    };
    let name = match &name_arg.value {
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) if valid_name(&lit.value()) => lit.clone(),
        other => {
            return Err(syn::Error::new_spanned(other, "`name` is a string of 1 to 64 characters from [A-Za-z0-9._-]"));
        }
    };

    let mut policy = quote! { ::halo::breaker::Policy::default() };
    if let Some(arg) = find("consecutive_failures") {
        let n = args::as_u64(arg)? as u32;
        policy = quote! { #policy.consecutive_failures(#n) };
    }
    if let Some(arg) = find("failure_rate") {
        let rate = rate(arg)?;
        let window = find("window").map(args::duration_ms).transpose()?.unwrap_or(30_000);
        let min_calls = find("min_calls").map(args::as_u64).transpose()?.unwrap_or(20) as u32;
        policy = quote! {
            #policy.failure_rate(#rate, ::std::time::Duration::from_millis(#window), #min_calls)
        };
    } else if let Some(arg) = find("window").or_else(|| find("min_calls")) {
        return Err(syn::Error::new_spanned(&arg.key, format!("`{}` goes with `failure_rate = 0.5`", arg.key)));
    }
    if find("open_for").is_some() || find("max_open_for").is_some() {
        let base = find("open_for").map(args::duration_ms).transpose()?.unwrap_or(5_000);
        let max = find("max_open_for").map(args::duration_ms).transpose()?.unwrap_or(300_000);
        policy = quote! {
            #policy.open_for(::std::time::Duration::from_millis(#base), ::std::time::Duration::from_millis(#max))
        };
    }
    if find("half_open_probes").is_some() || find("close_after").is_some() {
        let probes = find("half_open_probes").map(args::as_u64).transpose()?.unwrap_or(1) as u32;
        let close = find("close_after").map(args::as_u64).transpose()?.unwrap_or(1) as u32;
        policy = quote! { #policy.half_open(#probes, #close) };
    }
    if let Some(arg) = find("half_open_timeout") {
        let ms = args::duration_ms(arg)?;
        policy = quote! { #policy.half_open_timeout(::std::time::Duration::from_millis(#ms)) };
    }
    if let Some(arg) = find("refresh") {
        let ms = args::duration_ms(arg)?;
        policy = quote! { #policy.refresh_every(::std::time::Duration::from_millis(#ms)) };
    }

    let attrs = &function.attrs;
    let vis = &function.vis;
    let block = &function.block;
    let inner = format_ident!("__halo_guarded_{}", sig.ident);
    let mut inner_sig = sig.clone();
    inner_sig.ident = inner.clone();

    let on_error = match find("fallback") {
        None => quote! { ::std::result::Result::Err(::std::convert::From::from(__halo_error)) },
        Some(arg) => {
            let path = args::as_path(arg)?;
            let span = path.span();
            let saved: Vec<_> = (0..idents.len()).map(syn::Index::from).collect();
            // Spanned on the user's `fallback = path`: a fallback whose
            // parameters or result do not fit is reported there.
            let call = quote_spanned! {span=> #path(#(__halo_saved.#saved),*).await };
            quote! {
                if __halo_breaker.is_failure(&__halo_error) {
                    #call
                } else {
                    ::std::result::Result::Err(::std::convert::From::from(__halo_error))
                }
            }
        }
    };
    let save = if find("fallback").is_some() {
        quote! { let __halo_saved = (#(::std::clone::Clone::clone(&#idents),)*); }
    } else {
        quote! {}
    };

    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #inner_sig #block
            static __HALO_BREAKER: ::halo::breaker::__private::LazyBreaker =
                ::halo::breaker::__private::LazyBreaker::new(#name, || #policy);
            let __halo_breaker = __HALO_BREAKER.get().await;
            #save
            match __halo_breaker.call(#inner(#(#idents),*)).await {
                ::std::result::Result::Ok(__halo_value) => ::std::result::Result::Ok(__halo_value),
                ::std::result::Result::Err(__halo_error) => { #on_error }
            }
        }
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn rate(arg: &Arg) -> syn::Result<f64> {
    let value = match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => f.base10_parse::<f64>()?,
        _ => f64::NAN,
    };
    if (0.0..=1.0).contains(&value) && value > 0.0 {
        Ok(value)
    } else {
        Err(syn::Error::new_spanned(&arg.value, "`failure_rate` is a share of failures, e.g. `failure_rate = 0.5`"))
    }
}

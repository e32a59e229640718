//! `#[halo::handler]`: validates the handler's signature and generates a
//! `main` that calls `::halo::run` (or `::halo::run_with_init`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn};

use crate::{args, expand};

const MACRO: &str = "halo::handler";

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let expansion = expand_valid(args, &function);
    Ok(expand::or_keep_function(&function, quote! { fn main() {} }, expansion))
}

fn expand_valid(args: TokenStream, function: &ItemFn) -> syn::Result<TokenStream> {
    let args = args::parse(MACRO, args, &["init", "timeout_margin_ms"])?;
    let init = args.iter().find(|a| a.key == "init").map(args::as_path).transpose()?;
    let margin = args.iter().find(|a| a.key == "timeout_margin_ms").map(args::as_u64).transpose()?;
    validate(function, init.is_some())?;

    let name = &function.sig.ident;
    let run = match (init, margin) {
        (Some(init), None) => quote! { ::halo::run_with_init(#init(), #name) },
        (None, None) => quote! { ::halo::run(#name) },
        (init, Some(ms)) => {
            let options = quote! {
                ::halo::Options::from_env().timeout_margin(::std::time::Duration::from_millis(#ms))
            };
            match init {
                Some(init) => quote! { ::halo::run_with_options(#options, #init(), #name) },
                None => quote! {
                    ::halo::run_with_options(#options, ::halo::__private::no_init(), ::halo::__private::Stateless(#name))
                },
            }
        }
    };
    let main = expand::main_running(run);
    Ok(quote! { #function #main })
}

fn validate(function: &ItemFn, has_init: bool) -> syn::Result<()> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "`#[halo::handler]` needs an `async fn`: write `async fn handler(event: E, ctx: &halo::Ctx)`",
        ));
    }
    if let Some(receiver) = sig.inputs.iter().find(|arg| matches!(arg, FnArg::Receiver(_))) {
        return Err(syn::Error::new_spanned(receiver, "a handler cannot take `self`: it must be a free `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a handler cannot be generic: name the event and response types",
        ));
    }
    let expected = if has_init { 3 } else { 2 };
    if sig.inputs.len() != expected {
        let shape = if has_init {
            "3 parameters `(event: E, ctx: &halo::Ctx, state: &S)` (with `init`, the third receives the state)"
        } else {
            "2 parameters `(event: E, ctx: &halo::Ctx)` (add `init = path` for a third, `state: &S`)"
        };
        let span = if sig.inputs.is_empty() { sig.paren_token.span.join() } else { sig.inputs.span() };
        return Err(syn::Error::new(span, format!("a handler takes {shape}; found {}", sig.inputs.len())));
    }
    Ok(())
}

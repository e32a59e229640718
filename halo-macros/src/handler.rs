//! `#[halo::handler]`: parse → validate → expand. Parses `init` and
//! `timeout_margin` (or `timeout_margin_ms`), validates the handler's
//! signature and generates a `main` that calls `::halo::run` (or
//! `::halo::run_with_init` / `::halo::run_with_options`). On an error the
//! function is kept unchanged, with a stub `main`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Path};

use crate::args::{Args, Key, Millis};
use crate::expand;

const MACRO: &str = "halo::handler";
const KEYS: &[Key] = &[Key::new("init"), Key::duration_or_ms("timeout_margin", "timeout_margin_ms")];

/// The handler's arguments.
struct Options {
    init: Option<Path>,
    timeout_margin: Option<Millis>,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let expansion = parse(args).and_then(|options| {
        validate(&function, options.init.is_some())?;
        Ok(expand_valid(&function, options))
    });
    Ok(expand::or_keep_function(&function, quote! { fn main() {} }, expansion))
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let options = Options { init: args.take_path("init")?, timeout_margin: args.take_duration("timeout_margin")? };
    args.finish()?;
    Ok(options)
}

fn expand_valid(function: &ItemFn, options: Options) -> TokenStream {
    let name = &function.sig.ident;
    let run = match (options.init, options.timeout_margin) {
        (Some(init), None) => quote! { ::halo::run_with_init(#init(), #name) },
        (None, None) => quote! { ::halo::run(#name) },
        (init, Some(margin)) => {
            let options = quote! { ::halo::Options::from_env().timeout_margin(#margin) };
            match init {
                Some(init) => quote! { ::halo::run_with_options(#options, #init(), #name) },
                None => quote! {
                    ::halo::run_with_options(#options, ::halo::__private::no_init(), ::halo::__private::Stateless(#name))
                },
            }
        }
    };
    let main = expand::main_running(run);
    quote! { #function #main }
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

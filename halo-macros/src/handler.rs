//! `#[halo::handler]`: parse → validate → expand. Parses `init` and
//! `timeout_margin` (or `timeout_margin_ms`), validates the handler's
//! signature and generates a `main` that calls `::halo::run` (or
//! `::halo::run_with_init` / `::halo::run_with_options`). On an error the
//! function is kept unchanged, with a stub `main`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Path};

use crate::args::{Args, Key, Millis};
use crate::expand;
use crate::signature::Signature;

const MACRO: &str = "halo::handler";
const KEYS: &[Key] =
    &[Key::new("init"), Key::duration_or_ms("timeout_margin", "timeout_margin_ms"), Key::new("metrics")];

/// The handler's arguments.
struct Options {
    init: Option<Path>,
    timeout_margin: Option<Millis>,
    /// `metrics`: required (`true`) or off (`false`).
    metrics: Option<bool>,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let fallback = expand::stub_main();
    let function = match expand::function(MACRO, "an `async fn`", input, &fallback) {
        Ok(function) => function,
        Err(kept) => return kept,
    };
    let expansion = parse(args).and_then(|options| {
        let signature = validate(&function, options.init.is_some())?;
        Ok(expand_valid(&function, &signature, options))
    });
    expand::or_keep_function(&function, &fallback, expansion)
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let options = Options {
        init: args.take_path("init")?,
        timeout_margin: args.take_duration("timeout_margin")?,
        metrics: args.take_flag("metrics")?,
    };
    args.finish()?;
    Ok(options)
}

fn expand_valid(function: &ItemFn, signature: &Signature<'_>, options: Options) -> TokenStream {
    let shim = syn::Ident::new("__halo_send_handler", proc_macro2::Span::mixed_site());
    let mut options_expr = quote! { ::halo::Options::from_env() };
    if let Some(margin) = options.timeout_margin {
        options_expr.extend(quote! { .timeout_margin(#margin) });
    }
    options_expr.extend(expand::metrics_option(options.metrics));
    // The init's error becomes its whole cause chain (the sources of a
    // `std::error::Error`, which only the concrete type here can walk).
    let (init, handler) = match options.init {
        Some(init) => {
            // The state is typed as the handler's parameter says, spanned
            // on that parameter: an init that builds another type is one
            // "expected `Result<S, _>`" error there.
            let state = match signature.param_type(2) {
                Some(syn::Type::Reference(reference)) => {
                    let ty = &reference.elem;
                    let init = respan(quote!(#init), ty.span());
                    quote::quote_spanned! {ty.span()=> let state: ::std::result::Result<#ty, _> = #init().await; }
                }
                _ => quote! { let state = #init().await; },
            };
            (
                quote! {
                    async {
                        #[allow(unused_imports)]
                        use ::halo::__private::{DescribeDisplay as _, DescribeError as _};
                        #state
                        state.map_err(|err| (&&::halo::__private::Describe(&err)).describe())
                    }
                },
                quote! { #shim },
            )
        }
        None => (quote! { ::halo::__private::no_init() }, quote! { ::halo::__private::Stateless(#shim) }),
    };
    // The event, response and error types are named in the call, with the
    // spans of the user's tokens: a type that does not fit
    // `halo::HandlerEvent`, `halo::HandlerResponse` or `halo::IntoError` is
    // one error there, in those traits' words.
    let event = signature.param_type(0).map_or_else(|| quote!(_), ToTokens::to_token_stream);
    let result = signature.result_types();
    let response = result.map_or_else(|| quote!(_), |(ok, _)| ok.to_token_stream());
    let error = result.and_then(|(_, err)| err).map_or_else(|| quote!(_), ToTokens::to_token_stream);
    // Each through its check's projection, spanned on the user's type.
    let checked = |ty: TokenStream, check: &str| {
        if ty.to_string() == "_" {
            return ty;
        }
        let check = syn::Ident::new(check, proc_macro2::Span::call_site());
        let span = ty.span();
        quote::quote_spanned! {span=> <#ty as ::halo::__private::#check>::Checked }
    };
    let (event, response, error) =
        (checked(event, "EventType"), checked(response, "ResponseType"), checked(error, "ErrorType"));
    let run = quote! {
        ::halo::run_with_options::<_, _, _, _, #event, #response, #error>(
            #options_expr,
            #init,
            #handler,
        )
    };
    let main = expand::main_running(run);
    let shim = send_shim(function, &shim);
    quote! { #function #shim #main }
}

/// A function with the handler's parameters that returns its future as
/// `Send`: the one place a handler whose future is not `Send` is
/// reported (on its name), instead of an unsatisfied bound on the run call.
fn send_shim(function: &ItemFn, shim: &syn::Ident) -> TokenStream {
    let name = &function.sig.ident;
    let output = match &function.sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let (params, args): (Vec<TokenStream>, Vec<syn::Ident>) = function
        .sig
        .inputs
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let arg_name = syn::Ident::new(&format!("__halo_arg{i}"), proc_macro2::Span::mixed_site());
            let ty = match arg {
                FnArg::Typed(typed) => with_lifetime(&typed.ty),
                FnArg::Receiver(_) => quote!(_),
            };
            (quote! { #arg_name: #ty }, arg_name)
        })
        .unzip();
    let check = quote::quote_spanned! {name.span()=> ::halo::__private::handler_future_must_be_send };
    quote! {
        #[doc(hidden)]
        fn #shim<'__halo>(#(#params),*) -> impl ::std::future::Future<Output = #output> + ::std::marker::Send + '__halo {
            #check(#name(#(#args),*))
        }
    }
}

/// A parameter type with its reference's lifetime named `'__halo` (the
/// context and the state are borrowed for the handler's future).
fn with_lifetime(ty: &syn::Type) -> TokenStream {
    match ty {
        syn::Type::Reference(reference) if reference.lifetime.is_none() => {
            let mutability = &reference.mutability;
            let elem = &reference.elem;
            quote! { &'__halo #mutability #elem }
        }
        other => other.to_token_stream(),
    }
}

/// `tokens` with every token's span set to `span`, so an error about them
/// points at `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// An `async fn(event: E, ctx: &halo::Ctx)`, with `state: &S` third
/// when there is an `init`.
fn validate(function: &ItemFn, has_init: bool) -> syn::Result<Signature<'_>> {
    let signature = Signature::new(MACRO, function);
    signature.require_async("async fn handler(event: E, ctx: &halo::Ctx)")?;
    signature.require_free("name the event and response types")?;
    let (count, shape) = if has_init {
        (3, "3 parameters `(event: E, ctx: &halo::Ctx, state: &S)` (with `init`, the third receives the state)")
    } else {
        (2, "2 parameters `(event: E, ctx: &halo::Ctx)` (add `init = path` for a third, `state: &S`)")
    };
    signature.require_param_count(count, shape)?;
    signature.require_reference(1, "lends the context to the handler: write `ctx: &halo::Ctx`")?;
    signature
        .require_reference(2, "shares the state with every invocation: write `state: &S` (S is what `init` returns)")?;
    Ok(signature)
}

//! `#[halo::saga_step]`: parse → validate → expand. Parses the step's
//! compensation, retries (`retry(...)`, `compensation_retry(...)`),
//! side-effect flag and time budget, validates the function (an
//! `async fn(&StepCtx, I) -> Result<O, E>`) and turns it into a value
//! implementing `::halo::saga::Step`, its compensation checked against the
//! step's types where the user wrote it.
//!
//! On an argument error with a valid function, the step is still expanded
//! (with default options) next to the error, so the sagas using it still
//! type-check and the one error shown is the argument's; on an error in the
//! function itself, the function is kept unchanged.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitStr, Path, Type};

use crate::args::{Args, Key, Millis};
use crate::expand;
use crate::signature::Signature;

const MACRO: &str = "halo::saga_step";
const KEYS: &[Key] = &[
    Key::new("name"),
    Key::new("compensate"),
    Key::new("retry"),
    Key::new("compensation_retry"),
    Key::new("side_effects"),
    Key::duration_or_ms("budget", "budget_ms"),
];
const RETRY_KEYS: &[Key] = &[
    Key::new("attempts"),
    Key::duration_or_ms("initial_delay", "initial_delay_ms"),
    Key::duration_or_ms("max_delay", "max_delay_ms"),
    Key::new("multiplier"),
    Key::new("jitter"),
];

/// The macro's arguments.
#[derive(Default)]
struct Options {
    /// `name = "..."`: the name recorded in the saga log.
    name: Option<LitStr>,
    compensate: Option<Path>,
    retry: Option<Backoff>,
    compensation_retry: Option<Backoff>,
    side_effects: Option<bool>,
    budget: Option<Millis>,
}

/// A `retry(...)` list: a `::halo::retry::Backoff`.
struct Backoff {
    attempts: u32,
    initial_delay: Option<Millis>,
    max_delay: Option<Millis>,
    multiplier: Option<f64>,
    jitter: Option<bool>,
}

/// The step's types, from a valid signature.
struct StepTypes {
    input: Type,
    output: Type,
    error: Type,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let fallback = TokenStream::new();
    let function = match expand::function(MACRO, "an `async fn(ctx: &halo::saga::StepCtx, input: I)`", input, &fallback)
    {
        Ok(function) => function,
        Err(kept) => return kept,
    };
    let options = parse(args);
    let expansion = match (options, validate(&function)) {
        (Ok(options), Ok(signature)) => Ok(expand_valid(&function, &signature, &options)),
        (Err(err), Ok(signature)) => {
            let err = err.into_compile_error();
            let step = expand_valid(&function, &signature, &Options::default());
            Ok(quote! { #err #step })
        }
        (Err(err), Err(_)) | (Ok(_), Err(err)) => Err(err),
    };
    // A saga's log comes from the environment: registered, so that the
    // runtime resolves it at init.
    let registration = quote! { ::halo::__private::inventory::submit! { ::halo::__private::SAGA_LOG } };
    let expansion = expansion.map(|step| quote! { #step #registration });
    expand::or_keep_function(&function, &fallback, expansion)
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let name = args.take_str("name")?;
    if let Some(name) = &name
        && name.value().trim().is_empty()
    {
        return Err(syn::Error::new_spanned(
            name,
            "`name` is the step's name in the saga log: a non-empty string, e.g. `name = \"reserve-stock\"`",
        ));
    }
    let options = Options {
        name,
        compensate: args.take_path("compensate").map_err(|err| {
            syn::Error::new(
                err.span(),
                "`compensate` takes the path of an async fn `(ctx: &StepCtx, input: I, output: Option<O>)`",
            )
        })?,
        retry: backoff(&mut args, "retry")?,
        compensation_retry: backoff(&mut args, "compensation_retry")?,
        side_effects: args.take_bool("side_effects")?,
        budget: args.take_duration("budget")?,
    };
    args.finish()?;
    Ok(options)
}

/// `retry(attempts = 3, initial_delay = "100ms", ...)`.
fn backoff(args: &mut Args, key: &str) -> syn::Result<Option<Backoff>> {
    let Some(mut list) = args.take_nested(key, RETRY_KEYS)? else { return Ok(None) };
    let attempts = list.take_int_from::<u32>("attempts", 1)?;
    let initial_delay = list.take_duration("initial_delay")?;
    let max_delay = list.take_duration("max_delay")?;
    let multiplier = match list.take_float("multiplier")? {
        Some(m) if m.value >= 1.0 => Some(m.value),
        Some(m) => {
            return Err(syn::Error::new(
                m.span,
                "`multiplier` is how much the delay grows per retry: a number of at least 1.0, e.g. `multiplier = 2.0`",
            ));
        }
        None => None,
    };
    let jitter = list.take_bool("jitter")?;
    let span = list.span();
    list.finish()?;
    let Some(attempts) = attempts else {
        return Err(syn::Error::new(span, format!("`{key}(...)` needs `attempts = N`")));
    };
    Ok(Some(Backoff { attempts, initial_delay, max_delay, multiplier, jitter }))
}

impl Backoff {
    fn to_tokens(&self) -> TokenStream {
        let attempts = self.attempts;
        let mut tokens = quote! { ::halo::retry::Backoff::new(#attempts) };
        if let Some(delay) = self.initial_delay {
            tokens.extend(quote! { .initial_delay(#delay) });
        }
        if let Some(delay) = self.max_delay {
            tokens.extend(quote! { .max_delay(#delay) });
        }
        if let Some(multiplier) = self.multiplier {
            tokens.extend(quote! { .multiplier(#multiplier) });
        }
        if self.jitter == Some(false) {
            tokens.extend(quote! { .without_jitter() });
        }
        tokens
    }
}

/// An `async fn(ctx: &StepCtx, input: I) -> Result<O, E>`: its types.
fn validate(function: &ItemFn) -> syn::Result<StepTypes> {
    let signature = Signature::new(MACRO, function);
    signature.require_async("async fn step(ctx: &halo::saga::StepCtx, input: I) -> Result<O, E>")?;
    signature.require_free("name its input and output types")?;
    signature.require_param_count(2, "2 parameters `(ctx: &halo::saga::StepCtx, input: I)`")?;
    let input = signature
        .param_type(1)
        .cloned()
        .ok_or_else(|| signature.params_error("takes 2 parameters `(ctx: &halo::saga::StepCtx, input: I)`"))?;
    let (output, error) = signature.require_result("`Result<O, E>` (O: the step's output, E: its error)")?;
    Ok(StepTypes { input, output: output.clone(), error: error.clone() })
}

fn expand_valid(function: &ItemFn, signature: &StepTypes, options: &Options) -> TokenStream {
    let sig = &function.sig;
    let (input_ty, output_ty, error_ty) = (&signature.input, &signature.output, &signature.error);
    let name = &sig.ident;
    let name_str = name.to_string();
    // The name in the saga log: `name = "..."`, else the function's.
    let log_name = options.name.as_ref().map_or_else(|| name_str.clone(), LitStr::value);
    let vis = &function.vis;
    let (docs, attrs): (Vec<_>, Vec<_>) = function.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let block = &function.block;
    let inputs = &sig.inputs;
    let ret = &sig.output;

    let mut step_options = quote! { ::halo::saga::StepOptions::default() };
    if let Some(retry) = &options.retry {
        let retry = retry.to_tokens();
        step_options = quote! { #step_options.retry(#retry) };
    }
    if let Some(retry) = &options.compensation_retry {
        let retry = retry.to_tokens();
        step_options = quote! { #step_options.compensation_retry(#retry) };
    }
    if let Some(side_effects) = options.side_effects {
        step_options = quote! { #step_options.side_effects(#side_effects) };
    }
    if let Some(budget) = options.budget {
        step_options = quote! { #step_options.budget(#budget) };
    }

    let compensation = match &options.compensate {
        None => quote! {},
        Some(path) => {
            // Spanned on the user's `compensate = path`: a missing fn or a
            // signature that does not fit is reported there.
            let span = path.span();
            let ctx = Ident::new("ctx", Span::mixed_site());
            let input = Ident::new("input", Span::mixed_site());
            let output = Ident::new("output", Span::mixed_site());
            let call = quote_spanned! {span=>
                ::halo::__private::compensation_result(#path(#ctx, #input, #output).await)
            };
            quote! {
                fn has_compensation(&self) -> bool {
                    true
                }

                fn compensate(
                    &self,
                    #ctx: &::halo::saga::StepCtx,
                    #input: #input_ty,
                    #output: ::std::option::Option<#output_ty>,
                ) -> impl ::std::future::Future<Output = ::std::result::Result<(), ::halo::Error>> + ::std::marker::Send {
                    async move { #call }
                }
            }
        }
    };
    let struct_doc = format!(
        "Saga step `{name_str}` (see `#[halo::saga_step]`): pass it to `Saga::step`; call it with `{name_str}.call(ctx, input)`."
    );
    let call = format_ident!("call");

    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #struct_doc]
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #name;

        impl #name {
            /// Runs the step's body (what the saga calls), e.g. from a test.
            #(#attrs)*
            #vis async fn #call(&self, #inputs) #ret #block
        }

        impl ::halo::saga::Step for #name {
            type Input = #input_ty;
            type Output = #output_ty;
            type Error = #error_ty;

            fn name(&self) -> &str {
                #log_name
            }

            fn run(
                &self,
                ctx: &::halo::saga::StepCtx,
                input: #input_ty,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#output_ty, #error_ty>> + ::std::marker::Send {
                self.#call(ctx, input)
            }

            fn options(&self) -> ::halo::saga::StepOptions {
                #step_options
            }

            #compensation
        }
    }
}

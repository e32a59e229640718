//! `#[halo::saga_step]`: turns an `async fn(&StepCtx, I) -> Result<O, E>`
//! into a value implementing `::halo::saga::Step`, wiring its compensation
//! (checked against the step's types where the user wrote it), retries,
//! side-effect flag and time budget.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, GenericArgument, Ident, ItemFn, Lit, Meta, PathArguments, ReturnType, Token, Type};

use crate::expand;

const MACRO: &str = "halo::saga_step";
const KEYS: &[&str] = &["compensate", "retry", "compensation_retry", "side_effects", "budget_ms"];
const RETRY_KEYS: &[&str] = &["attempts", "initial_delay_ms", "max_delay_ms", "multiplier", "jitter"];

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let expansion = expand_valid(args, &function);
    Ok(expand::or_keep_function(&function, TokenStream::new(), expansion))
}

#[derive(Default)]
struct Args {
    compensate: Option<syn::Path>,
    retry: Option<TokenStream>,
    compensation_retry: Option<TokenStream>,
    side_effects: Option<bool>,
    budget_ms: Option<u64>,
}

fn allowed(keys: &[&str]) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

fn parse_args(tokens: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut args = Args::default();
    let mut seen: Vec<Ident> = Vec::new();
    for meta in metas {
        let Some(key) = meta.path().get_ident().cloned() else {
            return Err(syn::Error::new_spanned(meta.path(), format!("expected one of {}", allowed(KEYS))));
        };
        if !KEYS.contains(&key.to_string().as_str()) {
            return Err(syn::Error::new_spanned(
                &key,
                format!("unknown argument `{key}` of `#[{MACRO}]`; allowed: {}", allowed(KEYS)),
            ));
        }
        if seen.contains(&key) {
            return Err(syn::Error::new_spanned(&key, format!("duplicate argument `{key}`")));
        }
        seen.push(key.clone());
        match key.to_string().as_str() {
            "compensate" => {
                let value = name_value(&meta, &key)?;
                match value {
                    Expr::Path(p) if p.qself.is_none() => args.compensate = Some(p.path.clone()),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`compensate` takes the path of an async fn `(ctx: &StepCtx, input: I, output: Option<O>)`",
                        ));
                    }
                }
            }
            "retry" => args.retry = Some(backoff(&meta, &key)?),
            "compensation_retry" => args.compensation_retry = Some(backoff(&meta, &key)?),
            "side_effects" => args.side_effects = Some(lit_bool(name_value(&meta, &key)?, &key)?),
            "budget_ms" => args.budget_ms = Some(lit_int(name_value(&meta, &key)?, &key)?),
            _ => unreachable!("checked against KEYS"),
        }
    }
    Ok(args)
}

fn name_value<'m>(meta: &'m Meta, key: &Ident) -> syn::Result<&'m Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(&nv.value),
        other => Err(syn::Error::new_spanned(other, format!("`{key}` is written `{key} = value`"))),
    }
}

fn lit_bool(expr: &Expr, key: &Ident) -> syn::Result<bool> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Bool(b) => Ok(b.value),
            other => Err(syn::Error::new_spanned(other, format!("`{key}` takes `true` or `false`"))),
        },
        other => Err(syn::Error::new_spanned(other, format!("`{key}` takes `true` or `false`"))),
    }
}

fn lit_int(expr: &Expr, key: &Ident) -> syn::Result<u64> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse(),
            other => Err(syn::Error::new_spanned(other, format!("`{key}` takes an integer"))),
        },
        other => Err(syn::Error::new_spanned(other, format!("`{key}` takes an integer"))),
    }
}

fn lit_float(expr: &Expr, key: &Ident) -> syn::Result<f64> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Float(f) => f.base10_parse(),
            Lit::Int(i) => i.base10_parse(),
            other => Err(syn::Error::new_spanned(other, format!("`{key}` takes a number"))),
        },
        other => Err(syn::Error::new_spanned(other, format!("`{key}` takes a number"))),
    }
}

/// `retry(attempts = 3, initial_delay_ms = 100, ...)` into a `Backoff`.
fn backoff(meta: &Meta, key: &Ident) -> syn::Result<TokenStream> {
    let Meta::List(list) = meta else {
        return Err(syn::Error::new_spanned(
            meta,
            format!("`{key}` is written `{key}(attempts = 3, initial_delay_ms = 100)`; keys: {}", allowed(RETRY_KEYS)),
        ));
    };
    let inner = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
    let mut attempts = None;
    let mut calls = Vec::new();
    let mut seen: Vec<Ident> = Vec::new();
    for meta in inner {
        let Some(k) = meta.path().get_ident().cloned() else {
            return Err(syn::Error::new_spanned(meta.path(), format!("expected one of {}", allowed(RETRY_KEYS))));
        };
        if !RETRY_KEYS.contains(&k.to_string().as_str()) {
            return Err(syn::Error::new_spanned(
                &k,
                format!("unknown argument `{k}` of `{key}(...)`; allowed: {}", allowed(RETRY_KEYS)),
            ));
        }
        if seen.contains(&k) {
            return Err(syn::Error::new_spanned(&k, format!("duplicate argument `{k}`")));
        }
        seen.push(k.clone());
        let value = name_value(&meta, &k)?;
        match k.to_string().as_str() {
            "attempts" => attempts = Some(u32::try_from(lit_int(value, &k)?).unwrap_or(u32::MAX)),
            "initial_delay_ms" => {
                let ms = lit_int(value, &k)?;
                calls.push(quote! { .initial_delay(::std::time::Duration::from_millis(#ms)) });
            }
            "max_delay_ms" => {
                let ms = lit_int(value, &k)?;
                calls.push(quote! { .max_delay(::std::time::Duration::from_millis(#ms)) });
            }
            "multiplier" => {
                let m = lit_float(value, &k)?;
                calls.push(quote! { .multiplier(#m) });
            }
            "jitter" => {
                if !lit_bool(value, &k)? {
                    calls.push(quote! { .without_jitter() });
                }
            }
            _ => unreachable!("checked against RETRY_KEYS"),
        }
    }
    let Some(attempts) = attempts else {
        return Err(syn::Error::new_spanned(list, format!("`{key}(...)` needs `attempts = N`")));
    };
    Ok(quote! { ::halo::retry::Backoff::new(#attempts) #(#calls)* })
}

/// `Result<O, E>` → `(O, E)`.
fn result_types(ret: &ReturnType) -> Option<(Type, Type)> {
    let ReturnType::Type(_, ty) = ret else { return None };
    let Type::Path(path) = ty.as_ref() else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    Some((types.next()?, types.next()?))
}

fn expand_valid(args: TokenStream, function: &ItemFn) -> syn::Result<TokenStream> {
    let args = parse_args(args)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "`#[halo::saga_step]` needs an `async fn`: write `async fn step(ctx: &halo::saga::StepCtx, input: I) -> Result<O, E>`",
        ));
    }
    if let Some(receiver) = sig.inputs.iter().find(|arg| matches!(arg, FnArg::Receiver(_))) {
        return Err(syn::Error::new_spanned(receiver, "a saga step cannot take `self`: it must be a free `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a saga step cannot be generic: name its input and output types",
        ));
    }
    if sig.inputs.len() != 2 {
        let span = if sig.inputs.is_empty() { sig.paren_token.span.join() } else { sig.inputs.span() };
        return Err(syn::Error::new(
            span,
            format!(
                "a saga step takes 2 parameters `(ctx: &halo::saga::StepCtx, input: I)`; found {}",
                sig.inputs.len()
            ),
        ));
    }
    let input_ty = match &sig.inputs[1] {
        FnArg::Typed(pat) => pat.ty.as_ref().clone(),
        FnArg::Receiver(r) => return Err(syn::Error::new_spanned(r, "expected `input: I`")),
    };
    let Some((output_ty, error_ty)) = result_types(&sig.output) else {
        let span = match &sig.output {
            ReturnType::Default => sig.paren_token.span.join(),
            ReturnType::Type(_, ty) => ty.span(),
        };
        return Err(syn::Error::new(span, "a saga step returns `Result<Output, Error>`"));
    };

    let name = &sig.ident;
    let name_str = name.to_string();
    let vis = &function.vis;
    let (docs, attrs): (Vec<_>, Vec<_>) = function.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let block = &function.block;
    let inputs = &sig.inputs;
    let ret = &sig.output;

    let mut options = quote! { ::halo::saga::StepOptions::default() };
    if let Some(retry) = &args.retry {
        options = quote! { #options.retry(#retry) };
    }
    if let Some(retry) = &args.compensation_retry {
        options = quote! { #options.compensation_retry(#retry) };
    }
    if let Some(side_effects) = args.side_effects {
        options = quote! { #options.side_effects(#side_effects) };
    }
    if let Some(ms) = args.budget_ms {
        options = quote! { #options.budget(::std::time::Duration::from_millis(#ms)) };
    }

    let compensation = match &args.compensate {
        None => quote! {},
        Some(path) => {
            // Spanned on the user's `compensate = path`: a missing fn or a
            // signature that does not fit is reported there.
            let span = path.span();
            let ctx = Ident::new("ctx", Span::mixed_site());
            let input = Ident::new("input", Span::mixed_site());
            let output = Ident::new("output", Span::mixed_site());
            let call = quote_spanned! {span=>
                ::halo::saga::__private::compensation_result(#path(#ctx, #input, #output).await)
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

    Ok(quote! {
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
                #name_str
            }

            fn run(
                &self,
                ctx: &::halo::saga::StepCtx,
                input: #input_ty,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#output_ty, #error_ty>> + ::std::marker::Send {
                self.#call(ctx, input)
            }

            fn options(&self) -> ::halo::saga::StepOptions {
                #options
            }

            #compensation
        }
    })
}

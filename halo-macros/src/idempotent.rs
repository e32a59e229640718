//! `#[halo::idempotent(...)]`: validates the arguments and the function, and
//! wraps the body in `::halo::idempotency::Idempotency`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, ExprLit, FnArg, Ident, ItemFn, Lit, LitStr, Pat, ReturnType, Type};

use crate::args::{self, Arg};
use crate::expand;

const MACRO: &str = "idempotent";
const ALLOWED: &[&str] =
    &["name", "key", "validate", "required", "expires_after", "wait", "local_cache", "on_replay", "store", "payload"];

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let expansion = expand_valid(args, &function);
    Ok(expand::or_keep_function(&function, TokenStream::new(), expansion))
}

fn expand_valid(args: TokenStream, function: &ItemFn) -> syn::Result<TokenStream> {
    let args = args::parse(MACRO, args, ALLOWED)?;
    let get = |key: &str| args.iter().find(|a| a.key == key);
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "`#[idempotent]` needs an `async fn` returning `Result<T, E>`",
        ));
    }
    let ReturnType::Type(_, ret) = &sig.output else {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "`#[idempotent]` needs a function returning `Result<T, E>` (T: Serialize + DeserializeOwned, E: From<halo::Error>)",
        ));
    };

    let name = match get("name") {
        Some(arg) => {
            let lit = string(arg)?;
            if lit.value().trim().is_empty() || lit.value().contains('#') {
                return Err(syn::Error::new_spanned(lit, "`name` must be a non-empty string without `#`"));
            }
            lit.value()
        }
        None => sig.ident.to_string(),
    };
    let mut config = quote! { ::halo::idempotency::Config::new(#name) };
    for option in ["key", "validate"] {
        if let Some(arg) = get(option) {
            let pointers = pointers(arg)?;
            let method = Ident::new(option, Span::call_site());
            config.extend(quote! { .#method([#(#pointers),*]) });
        }
    }
    if let Some(arg) = get("required") {
        let value = boolean(arg)?;
        config.extend(quote! { .required(#value) });
    }
    for option in ["expires_after", "wait"] {
        if let Some(arg) = get(option) {
            let ms = args::duration_ms(arg)?;
            let method = Ident::new(option, Span::call_site());
            config.extend(quote! { .#method(::halo::idempotency::__private::millis(#ms)) });
        }
    }
    if let Some(arg) = get("local_cache") {
        let entries = whole_number(arg)?;
        config.extend(quote! { .local_cache(#entries) });
    }

    if let Some(arg) = get("on_replay") {
        // A function path or a closure; its type is checked by rustc at
        // this span against `Fn(serde_json::Value, &Replay) -> Value`.
        let hook = &arg.value;
        config.extend(quote! { .on_replay(#hook) });
    }

    let payload = payload_param(function, get("payload"))?;
    let ctx = ctx_param(function);
    let ctx = match ctx {
        Some(ctx) => quote! { ::std::option::Option::Some(#ctx) },
        None => quote! { ::std::option::Option::None },
    };
    let store = match get("store") {
        Some(arg) => {
            let expr = &arg.value;
            // `let x = &(expr);` keeps a temporary store alive for the call.
            quote! {
                let __halo_store_value = &(#expr);
                let __halo_store: ::std::option::Option<&dyn ::halo::idempotency::Store> =
                    ::std::option::Option::Some(::halo::idempotency::__private::dyn_store(__halo_store_value));
            }
        }
        None => {
            quote! { let __halo_store: ::std::option::Option<&dyn ::halo::idempotency::Store> = ::std::option::Option::None; }
        }
    };

    let attrs = &function.attrs;
    let vis = &function.vis;
    let block = &function.block;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            static __HALO_IDEMPOTENCY: ::halo::idempotency::__private::LazyLock<::halo::idempotency::Idempotency> =
                ::halo::idempotency::__private::LazyLock::new(|| ::halo::idempotency::Idempotency::new(#config));
            let __halo_payload = ::halo::idempotency::__private::to_value(&#payload);
            let __halo_ctx: ::std::option::Option<&::halo::Ctx> = #ctx;
            #store
            let __halo_body = async move {
                let __halo_result: #ret = #block;
                __halo_result
            };
            ::halo::idempotency::__private::run(&__HALO_IDEMPOTENCY, __halo_store, __halo_payload, __halo_ctx, __halo_body).await
        }
    })
}

fn string(arg: &Arg) -> syn::Result<&LitStr> {
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Ok(lit),
        other => Err(syn::Error::new_spanned(other, format!("`{}` takes a string literal", arg.key))),
    }
}

fn boolean(arg: &Arg) -> syn::Result<bool> {
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Bool(lit), .. }) => Ok(lit.value),
        other => Err(syn::Error::new_spanned(other, format!("`{}` takes `true` or `false`", arg.key))),
    }
}

fn whole_number(arg: &Arg) -> syn::Result<usize> {
    let error = |tokens: &dyn ToTokens| {
        syn::Error::new_spanned(
            tokens,
            format!("`{}` takes a positive whole number of entries, e.g. `{} = 1000`", arg.key, arg.key),
        )
    };
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Int(lit), .. }) => match lit.base10_parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(error(lit)),
        },
        other => Err(error(other)),
    }
}

/// `"/a"` or `["/a", "/b"]`: JSON pointers, each starting with `/`.
fn pointers(arg: &Arg) -> syn::Result<Vec<LitStr>> {
    let hint =
        format!("`{}` takes JSON pointers: `{} = [\"/body/order_id\", \"/headers/x-api-key\"]`", arg.key, arg.key);
    let literals: Vec<&Expr> = match &arg.value {
        Expr::Array(ExprArray { elems, .. }) if !elems.is_empty() => elems.iter().collect(),
        single @ Expr::Lit(_) => vec![single],
        other => return Err(syn::Error::new_spanned(other, hint)),
    };
    literals
        .into_iter()
        .map(|expr| match expr {
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) if lit.value().starts_with('/') => Ok(lit.clone()),
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Err(syn::Error::new_spanned(
                lit,
                format!(
                    "a JSON pointer starts with `/` and separates fields with `/`: write \"/{}\"",
                    lit.value().trim_start_matches(['.', '$', '/']).replace('.', "/")
                ),
            )),
            other => Err(syn::Error::new_spanned(other, hint.clone())),
        })
        .collect()
}

fn param_ident(arg: &FnArg) -> Option<&Ident> {
    match arg {
        FnArg::Typed(typed) => match typed.pat.as_ref() {
            Pat::Ident(pat) => Some(&pat.ident),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    }
}

fn is_ctx_ref(arg: &FnArg) -> bool {
    let FnArg::Typed(typed) = arg else { return false };
    let Type::Reference(reference) = typed.ty.as_ref() else { return false };
    matches!(reference.elem.as_ref(), Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Ctx"))
}

/// The parameter whose value is the payload: `payload = name`, else the
/// first parameter that is not `self` or a `&Ctx`.
fn payload_param(function: &ItemFn, chosen: Option<&Arg>) -> syn::Result<Ident> {
    let inputs = &function.sig.inputs;
    if let Some(arg) = chosen {
        let wanted = match &arg.value {
            Expr::Path(path) if path.path.get_ident().is_some() => path.path.get_ident().cloned(),
            _ => None,
        };
        let Some(wanted) = wanted else {
            return Err(syn::Error::new_spanned(&arg.value, "`payload` takes the name of a parameter"));
        };
        return match inputs.iter().filter_map(param_ident).find(|ident| **ident == wanted) {
            Some(ident) => Ok(ident.clone()),
            None => Err(syn::Error::new_spanned(&arg.value, format!("the function has no parameter named `{wanted}`"))),
        };
    }
    let candidate = inputs.iter().find(|arg| !matches!(arg, FnArg::Receiver(_)) && !is_ctx_ref(arg));
    match candidate {
        Some(arg) => param_ident(arg).cloned().ok_or_else(|| {
            syn::Error::new_spanned(arg, "the payload parameter must be a plain name (`event: E`), not a pattern")
        }),
        None => {
            let span = if inputs.is_empty() { function.sig.paren_token.span.join() } else { inputs.span() };
            Err(syn::Error::new(
                span,
                "`#[idempotent]` needs a parameter whose value is the payload (`event: E` with `E: Serialize`)",
            ))
        }
    }
}

fn ctx_param(function: &ItemFn) -> Option<Ident> {
    function.sig.inputs.iter().find(|arg| is_ctx_ref(arg)).and_then(param_ident).cloned()
}

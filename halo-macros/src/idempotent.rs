//! `#[halo::idempotent(...)]`: parse → validate → expand. Parses the
//! arguments into an `idempotency::IdempotencyConfig`, validates the function (an
//! `async fn` returning `Result`, with a payload parameter) and wraps its
//! body in `::halo::idempotency::Idempotency`. On an error the function is
//! kept unchanged.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, LitStr, Pat, Type};

use crate::args::{Args, Key, Millis};
use crate::expand;
use crate::signature::{Signature, is_ctx_ref};

const MACRO: &str = "halo::idempotent";
const KEYS: &[Key] = &[
    Key::new("name"),
    Key::new("key"),
    Key::new("validate"),
    Key::new("required"),
    Key::new("expires_after"),
    Key::new("wait"),
    Key::new("local_cache"),
    Key::new("on_replay"),
    Key::new("store"),
    Key::new("payload"),
];

/// The macro's arguments.
struct Options {
    name: Option<LitStr>,
    key: Option<Vec<LitStr>>,
    validate: Option<Vec<LitStr>>,
    required: Option<bool>,
    expires_after: Option<Millis>,
    wait: Option<Millis>,
    local_cache: Option<usize>,
    on_replay: Option<Expr>,
    store: Option<Expr>,
    payload: Option<Expr>,
}

/// What validating the function found.
struct Function<'f> {
    ret: &'f Type,
    payload: Ident,
    ctx: Option<Ident>,
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let fallback = TokenStream::new();
    let function = match expand::function(MACRO, "an `async fn` returning `Result<T, E>`", input, &fallback) {
        Ok(function) => function,
        Err(kept) => return kept,
    };
    let expansion = parse(args).and_then(|options| {
        let checked = validate(&function, &options)?;
        Ok(expand_valid(&function, &checked, &options))
    });
    expand::or_keep_function(&function, &fallback, expansion)
}

fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut args = Args::parse(MACRO, tokens, KEYS)?;
    let options = Options {
        name: args.take_str("name")?,
        key: pointers(&mut args, "key")?,
        validate: pointers(&mut args, "validate")?,
        required: args.take_bool("required")?,
        expires_after: args.take_duration("expires_after")?,
        wait: args.take_duration("wait")?,
        local_cache: args.take_int_from::<usize>("local_cache", 1).map_err(|err| {
            syn::Error::new(
                err.span(),
                "`local_cache` takes a positive whole number of entries, e.g. `local_cache = 1000`",
            )
        })?,
        // A function path or a closure; its type is checked by rustc at
        // this span against `Fn(serde_json::Value, &Replay) -> Value`.
        on_replay: args.take_expr("on_replay")?,
        store: args.take_expr("store")?,
        payload: args.take_expr("payload")?,
    };
    args.finish()?;
    if let Some(lit) = &options.name
        && (lit.value().trim().is_empty() || lit.value().contains('#'))
    {
        return Err(syn::Error::new_spanned(lit, "`name` must be a non-empty string without `#`"));
    }
    Ok(options)
}

/// `"/a"` or `["/a", "/b"]`: JSON pointers, each starting with `/`.
fn pointers(args: &mut Args, key: &str) -> syn::Result<Option<Vec<LitStr>>> {
    let hint = format!("`{key}` takes JSON pointers: `{key} = [\"/body/order_id\", \"/headers/x-api-key\"]`");
    let Some(pointers) = args.take_list(key).map_err(|err| syn::Error::new(err.span(), &hint))? else {
        return Ok(None);
    };
    for lit in &pointers {
        if !lit.value().starts_with('/') {
            return Err(syn::Error::new_spanned(
                lit,
                format!(
                    "a JSON pointer starts with `/` and separates fields with `/`: write \"/{}\"",
                    lit.value().trim_start_matches(['.', '$', '/']).replace('.', "/")
                ),
            ));
        }
    }
    Ok(Some(pointers))
}

/// An `async fn` returning `Result<T, E>` with a payload parameter (a
/// method too: the body is wrapped in place).
fn validate<'f>(function: &'f ItemFn, options: &Options) -> syn::Result<Function<'f>> {
    let signature = Signature::new(MACRO, function);
    signature.require_async("async fn name(event: E) -> Result<T, E2>")?;
    let ret = signature.require_return("`Result<T, E>` (T: Serialize + DeserializeOwned, E: From<halo::Error>)")?;
    let payload = payload_param(&signature, options.payload.as_ref())?;
    let ctx = signature
        .inputs()
        .filter(|arg| matches!(arg, FnArg::Typed(typed) if is_ctx_ref(&typed.ty)))
        .find_map(|arg| signature.named(arg, "the context").ok())
        .map(|param| param.ident.clone());
    Ok(Function { ret, payload, ctx })
}

fn expand_valid(function: &ItemFn, checked: &Function<'_>, options: &Options) -> TokenStream {
    let name = match &options.name {
        Some(lit) => lit.value(),
        None => function.sig.ident.to_string(),
    };
    let mut config = quote! { ::halo::idempotency::IdempotencyConfig::new(#name) };
    for (method, pointers) in [("key", &options.key), ("validate", &options.validate)] {
        if let Some(pointers) = pointers {
            let method = Ident::new(method, Span::call_site());
            config.extend(quote! { .#method([#(#pointers),*]) });
        }
    }
    if let Some(value) = options.required {
        config.extend(quote! { .required(#value) });
    }
    for (method, duration) in [("expires_after", &options.expires_after), ("wait", &options.wait)] {
        if let Some(duration) = duration {
            let ms = duration.value;
            let method = Ident::new(method, Span::call_site());
            config.extend(quote! { .#method(::halo::__private::millis(#ms)) });
        }
    }
    if let Some(entries) = options.local_cache {
        config.extend(quote! { .local_cache(#entries) });
    }
    if let Some(hook) = &options.on_replay {
        config.extend(quote! { .on_replay(#hook) });
    }

    let payload = &checked.payload;
    let ctx = match &checked.ctx {
        Some(ctx) => quote! { ::std::option::Option::Some(#ctx) },
        None => quote! { ::std::option::Option::None },
    };
    let store = match &options.store {
        Some(expr) => {
            // `let x = &(expr);` keeps a temporary store alive for the call.
            quote! {
                let __halo_store_value = &(#expr);
                let __halo_store: ::std::option::Option<&dyn ::halo::idempotency::IdempotencyStore> =
                    ::std::option::Option::Some(::halo::__private::dyn_store(__halo_store_value));
            }
        }
        None => {
            // The default store comes from the environment: registered, so
            // that the runtime resolves it at init.
            quote! {
                ::halo::__private::inventory::submit! { ::halo::__private::IDEMPOTENCY_STORE }
                let __halo_store: ::std::option::Option<&dyn ::halo::idempotency::IdempotencyStore> = ::std::option::Option::None;
            }
        }
    };

    // Each check is a call of a method of one of halo's traits on the
    // user's type, spanned on that type: a type that does not fit gets one
    // error there, in the trait's words.
    let payload_span = payload_type(function, payload).map_or_else(|| payload.span(), Spanned::span);
    let payload_json =
        quote_spanned! {payload_span=> ::halo::idempotency::IdempotentPayload::idempotency_payload(&#payload) };
    let ret = checked.ret;
    let result = Signature::new(MACRO, function).result_types();
    let response = result.map_or_else(|| quote!(_), |(response, _)| quote!(#response));
    let error = result.and_then(|(_, error)| error).map_or_else(|| quote!(_), |error| quote!(#error));
    let response_span = result.map_or_else(|| ret.span(), |(response, _)| response.span());
    let error_span = result.and_then(|(_, error)| error).map_or_else(|| ret.span(), Spanned::span);
    let run = quote_spanned! {response_span=>
        <#response as ::halo::idempotency::IdempotentResponse>::run_idempotent(
            &__HALO_IDEMPOTENCY, __halo_store, __halo_payload, __halo_ctx, __halo_body,
        ).await
    };
    let from_idempotency =
        quote_spanned! {error_span=> <#error as ::halo::idempotency::IdempotentError>::from_idempotency };
    let sig = &function.sig;
    let attrs = &function.attrs;
    let vis = &function.vis;
    let block = &function.block;
    quote! {
        #(#attrs)*
        #vis #sig {
            static __HALO_IDEMPOTENCY: ::halo::__private::LazyLock<::halo::idempotency::Idempotency> =
                ::halo::__private::LazyLock::new(|| ::halo::idempotency::Idempotency::new(#config));
            let __halo_payload = #payload_json;
            let __halo_ctx: ::std::option::Option<&::halo::Ctx> = #ctx;
            #store
            let __halo_body = async move {
                let __halo_result: #ret = #block;
                __halo_result
            };
            match #run {
                ::std::result::Result::Ok(response) => ::std::result::Result::Ok(response),
                ::std::result::Result::Err(::std::result::Result::Ok(err)) => ::std::result::Result::Err(err),
                ::std::result::Result::Err(::std::result::Result::Err(err)) => ::std::result::Result::Err(#from_idempotency(err)),
            }
        }
    }
}

/// The declared type of the parameter `name`.
fn payload_type<'f>(function: &'f ItemFn, name: &Ident) -> Option<&'f Type> {
    Signature::new(MACRO, function).inputs().find_map(|arg| match arg {
        FnArg::Typed(typed) if matches!(typed.pat.as_ref(), Pat::Ident(pat) if pat.ident == *name) => {
            Some(typed.ty.as_ref())
        }
        _ => None,
    })
}

/// The parameter whose value is the payload: `payload = name`, else the
/// first parameter that is not `self` or a `&Ctx`.
fn payload_param(signature: &Signature<'_>, chosen: Option<&Expr>) -> syn::Result<Ident> {
    let named = || signature.inputs().filter_map(|arg| signature.named(arg, "the payload").ok());
    if let Some(value) = chosen {
        let wanted = match value {
            Expr::Path(path) => path.path.get_ident(),
            _ => None,
        };
        let Some(wanted) = wanted else {
            return Err(syn::Error::new_spanned(value, "`payload` takes the name of a parameter: `payload = event`"));
        };
        return match named().find(|param| param.ident == wanted) {
            Some(param) => Ok(param.ident.clone()),
            None => Err(syn::Error::new_spanned(value, format!("the function has no parameter named `{wanted}`"))),
        };
    }
    let candidate = signature.inputs().find(|arg| matches!(arg, FnArg::Typed(typed) if !is_ctx_ref(&typed.ty)));
    match candidate {
        Some(arg) => signature.named(arg, "the payload parameter").map(|param| param.ident.clone()),
        None => {
            Err(signature.params_error("needs a parameter whose value is the payload (`event: E` with `E: Serialize`)"))
        }
    }
}

//! `#[halo::idempotent(...)]`: parse → validate → expand. Parses the
//! arguments into an `idempotency::Config`, validates the function (an
//! `async fn` returning `Result`, with a payload parameter) and wraps its
//! body in `::halo::idempotency::Idempotency`. On an error the function is
//! kept unchanged.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Type};

use crate::args::{Args, Key, Millis};
use crate::expand;

const MACRO: &str = "idempotent";
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

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(input)?;
    let expansion = parse(args).and_then(|options| {
        let checked = validate(&function, &options)?;
        Ok(expand_valid(&function, &checked, &options))
    });
    Ok(expand::or_keep_function(&function, TokenStream::new(), expansion))
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

fn validate<'f>(function: &'f ItemFn, options: &Options) -> syn::Result<Function<'f>> {
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
    let payload = payload_param(function, options.payload.as_ref())?;
    Ok(Function { ret, payload, ctx: ctx_param(function) })
}

fn expand_valid(function: &ItemFn, checked: &Function<'_>, options: &Options) -> TokenStream {
    let name = match &options.name {
        Some(lit) => lit.value(),
        None => function.sig.ident.to_string(),
    };
    let mut config = quote! { ::halo::idempotency::Config::new(#name) };
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
    let (response, error) = match result_types(ret) {
        Some((response, error)) => (quote!(#response), quote!(#error)),
        None => (quote!(_), quote!(_)),
    };
    let (response_span, error_span) = result_types(ret).map_or((ret.span(), ret.span()), |(r, e)| (r.span(), e.span()));
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
    function.sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(typed) if param_ident(arg) == Some(name) => Some(typed.ty.as_ref()),
        _ => None,
    })
}

/// `T` and `E` of a return type written `Result<T, E>` (any path ending in
/// `Result`).
fn result_types(ret: &Type) -> Option<(&Type, &Type)> {
    let Type::Path(path) = ret else { return None };
    let last = path.path.segments.last().filter(|s| s.ident == "Result")?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(response), Some(error), None) => Some((response, error)),
        _ => None,
    }
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
fn payload_param(function: &ItemFn, chosen: Option<&Expr>) -> syn::Result<Ident> {
    let inputs = &function.sig.inputs;
    if let Some(value) = chosen {
        let wanted = match value {
            Expr::Path(path) if path.path.get_ident().is_some() => path.path.get_ident().cloned(),
            _ => None,
        };
        let Some(wanted) = wanted else {
            return Err(syn::Error::new_spanned(value, "`payload` takes the name of a parameter"));
        };
        return match inputs.iter().filter_map(param_ident).find(|ident| **ident == wanted) {
            Some(ident) => Ok(ident.clone()),
            None => Err(syn::Error::new_spanned(value, format!("the function has no parameter named `{wanted}`"))),
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

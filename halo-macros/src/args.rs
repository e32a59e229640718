//! Parsing `key = value` macro arguments with spanned errors for unknown and
//! duplicated keys.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, Meta, Token};

/// One `key = value` argument.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Expr,
}

/// Parses `key = value, ...`, rejecting keys not in `allowed` and keys given
/// twice, each error spanned on the key.
pub(crate) fn parse(macro_name: &str, tokens: TokenStream, allowed: &[&str]) -> syn::Result<Vec<Arg>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let allowed_list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
    let mut args: Vec<Arg> = Vec::new();
    for meta in metas {
        let Meta::NameValue(nv) = meta else {
            return Err(syn::Error::new_spanned(
                meta,
                format!("`#[{macro_name}]` arguments are `key = value` pairs; allowed keys: {allowed_list}"),
            ));
        };
        let Some(key) = nv.path.get_ident().cloned() else {
            return Err(syn::Error::new_spanned(nv.path, format!("expected one of {allowed_list}")));
        };
        if !allowed.contains(&key.to_string().as_str()) {
            return Err(syn::Error::new_spanned(
                &key,
                format!("unknown argument `{key}` of `#[{macro_name}]`; allowed: {allowed_list}"),
            ));
        }
        if args.iter().any(|a| a.key == key) {
            return Err(syn::Error::new_spanned(&key, format!("duplicate argument `{key}`")));
        }
        args.push(Arg { key, value: nv.value });
    }
    Ok(args)
}

/// The value of `key` as a path (e.g. a function name).
pub(crate) fn as_path(arg: &Arg) -> syn::Result<&syn::Path> {
    match &arg.value {
        Expr::Path(p) if p.qself.is_none() => Ok(&p.path),
        other => Err(syn::Error::new_spanned(other, format!("`{}` takes the path of a function", arg.key))),
    }
}

/// The value of `key` as a whole number (e.g. milliseconds).
pub(crate) fn as_u64(arg: &Arg) -> syn::Result<u64> {
    match &arg.value {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. }) => int.base10_parse(),
        other => {
            Err(syn::Error::new_spanned(other, format!("`{}` takes a whole number, e.g. `{} = 500`", arg.key, arg.key)))
        }
    }
}

/// `"500ms"`, `"5s"`, `"10m"`, `"24h"`, `"7d"` in milliseconds.
pub(crate) fn duration_ms(arg: &Arg) -> syn::Result<u64> {
    let error = |tokens: &dyn ToTokens| {
        syn::Error::new_spanned(
            tokens,
            format!("`{}` takes a duration string with a unit: \"500ms\", \"5s\", \"10m\", \"24h\" or \"7d\"", arg.key),
        )
    };
    let lit = match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => lit,
        other => return Err(error(other)),
    };
    let text = lit.value();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(error(lit)),
    };
    match number.parse::<u64>().ok().and_then(|n| n.checked_mul(factor)) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(error(lit)),
    }
}

//! The one argument model of every halo macro.
//!
//! Arguments are `key = value` pairs and `key(...)` lists of such pairs
//! (`retry(attempts = 3, initial_delay = "50ms")`). A macro declares its
//! [`Key`]s, [`Args::parse`]s the attribute, `take_*`s each key with the
//! type it expects, then calls [`Args::finish`], which reports what is
//! left: an unknown argument. Every error is spanned on the offending token
//! (the key for unknown and duplicated arguments, the value for a value of
//! the wrong shape) and says what is allowed.
//!
//! Durations are strings with a unit (`"500ms"`, `"5s"`, `"10m"`, `"24h"`,
//! `"7d"`); a key may have an `_ms` alias taking whole milliseconds
//! (`budget_ms = 2000` for `budget = "2s"`). Giving both is the duplicated
//! argument error.

use std::fmt::Display;
use std::str::FromStr;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, ExprLit, Ident, Lit, LitStr, MacroDelimiter, Meta, MetaList, Path, Token};

/// An argument a macro accepts, with an optional alias.
pub(crate) struct Key {
    name: &'static str,
    /// The integer-milliseconds form of a duration key (`budget_ms`).
    ms_alias: Option<&'static str>,
}

impl Key {
    /// A key without alias.
    pub(crate) const fn new(name: &'static str) -> Key {
        Key { name, ms_alias: None }
    }

    /// A duration key (`name = "2s"`) that also accepts `ms_alias = 2000`.
    pub(crate) const fn duration_or_ms(name: &'static str, ms_alias: &'static str) -> Key {
        Key { name, ms_alias: Some(ms_alias) }
    }

    fn is_written(&self, written: &str) -> bool {
        self.name == written || self.ms_alias == Some(written)
    }
}

/// A value with the span of the tokens it came from (to report a value
/// that parsed but does not fit where it is used).
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// A duration in milliseconds; as tokens, a `std::time::Duration`.
pub(crate) type Millis = At<u64>;

impl ToTokens for At<u64> {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let ms = self.value;
        tokens.extend(quote! { ::std::time::Duration::from_millis(#ms) });
    }
}

/// The whole-number types an argument can be parsed into, with their range
/// for the error message.
pub(crate) trait Int: Copy + Display + FromStr + PartialOrd {
    /// The smallest value.
    const MIN: Self;
    /// The largest value.
    const MAX: Self;
    /// The type's name, e.g. `u32`.
    const NAME: &'static str;
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            const NAME: &'static str = stringify!($t);
        }
    )*};
}
int!(u32, u64, usize);

enum Value {
    /// `key = value`
    Expr(Expr),
    /// `key(...)`, `key[...]` or `key { ... }`
    List(MetaList),
    /// `key` alone
    Bare(Path),
}

struct Entry {
    /// The key as written (`budget_ms` for the key `budget`).
    written: Ident,
    /// The index in `keys` of the key it names; `None` for an unknown key.
    key: Option<usize>,
    value: Value,
    taken: bool,
}

/// A macro's (or a nested list's) arguments, taken key by key.
pub(crate) struct Args {
    /// How errors name the place: "`#[halo::saga_step]`", "`retry(...)`".
    context: String,
    keys: &'static [Key],
    entries: Vec<Entry>,
    span: Span,
}

impl Args {
    /// Parses the arguments of `#[macro_name(...)]`, rejecting a key given
    /// twice (including an alias with its main form); unknown keys are
    /// reported by [`Args::finish`].
    pub(crate) fn parse(macro_name: &str, tokens: TokenStream, keys: &'static [Key]) -> syn::Result<Args> {
        let span = if tokens.is_empty() { Span::call_site() } else { tokens.span() };
        Args::parse_in(format!("`#[{macro_name}]`"), tokens, keys, span)
    }

    fn parse_in(context: String, tokens: TokenStream, keys: &'static [Key], span: Span) -> syn::Result<Args> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
        let mut args = Args { context, keys, entries: Vec::new(), span };
        for meta in metas {
            let written = match meta.path().get_ident() {
                Some(ident) => ident.clone(),
                None => return Err(args.unknown(meta.path(), &meta.path().to_token_stream().to_string())),
            };
            let name = written.to_string();
            let key = keys.iter().position(|k| k.is_written(&name));
            if let Some(first) = args.entries.iter().find(|e| e.key == key && (key.is_some() || e.written == written)) {
                return Err(args.duplicate(&written, &first.written));
            }
            let value = match meta {
                Meta::NameValue(nv) => Value::Expr(nv.value),
                Meta::List(list) => Value::List(list),
                Meta::Path(path) => Value::Bare(path),
            };
            args.entries.push(Entry { written, key, value, taken: false });
        }
        Ok(args)
    }

    /// The span of the arguments (the nested list for `retry(...)`), for an
    /// error about something missing.
    pub(crate) fn span(&self) -> Span {
        self.span
    }

    /// The key as written, if given (and not yet taken), e.g. to reject a
    /// combination spanned on it.
    pub(crate) fn given(&self, name: &str) -> Option<&Ident> {
        self.find(name).map(|i| &self.entries[i].written)
    }

    /// Reports the first argument no `take_*` asked for: unknown here.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.entries.iter().find(|e| !e.taken) {
            Some(entry) => Err(self.unknown(&entry.written, &entry.written.to_string())),
            None => Ok(()),
        }
    }

    /// `key = expr`: any expression (a store, a closure).
    pub(crate) fn take_expr(&mut self, name: &str) -> syn::Result<Option<Expr>> {
        self.take_value(name).map(|taken| taken.map(|(_, expr)| expr))
    }

    /// `key = path::to::function`.
    pub(crate) fn take_path(&mut self, name: &str) -> syn::Result<Option<Path>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        match expr {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Ok(Some(p.path)),
            other => Err(syn::Error::new_spanned(other, format!("`{written}` takes the path of a function"))),
        }
    }

    /// `key = "text"`.
    pub(crate) fn take_str(&mut self, name: &str) -> syn::Result<Option<LitStr>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        match expr {
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Ok(Some(lit)),
            other => Err(syn::Error::new_spanned(other, format!("`{written}` takes a string literal"))),
        }
    }

    /// `key = true` or `key = false`.
    pub(crate) fn take_bool(&mut self, name: &str) -> syn::Result<Option<bool>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        match expr {
            Expr::Lit(ExprLit { lit: Lit::Bool(lit), .. }) => Ok(Some(lit.value)),
            other => Err(syn::Error::new_spanned(other, format!("`{written}` takes `true` or `false`"))),
        }
    }

    /// `key` alone (true), or `key = true` / `key = false`.
    pub(crate) fn take_flag(&mut self, name: &str) -> syn::Result<Option<bool>> {
        let Some(index) = self.find(name) else { return Ok(None) };
        if let Value::Bare(_) = self.entries[index].value {
            self.entries[index].taken = true;
            return Ok(Some(true));
        }
        let written = self.entries[index].written.clone();
        match &self.entries[index].value {
            Value::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(_), .. })) => self.take_bool(name),
            Value::Expr(expr) => {
                Err(syn::Error::new_spanned(expr, format!("`{written}` is written `{written}` or `{written} = false`")))
            }
            Value::List(list) => {
                Err(syn::Error::new_spanned(list, format!("`{written}` is written `{written}` or `{written} = false`")))
            }
            Value::Bare(_) => Ok(Some(true)),
        }
    }

    /// `key = 3` as a `T`; a number that does not fit `T` is an error on
    /// the number.
    pub(crate) fn take_int<T: Int>(&mut self, name: &str) -> syn::Result<Option<T>> {
        self.take_int_from(name, T::MIN)
    }

    /// `key = 3` as a `T` of at least `min`.
    pub(crate) fn take_int_from<T: Int>(&mut self, name: &str, min: T) -> syn::Result<Option<T>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        int_in(&written, &expr, min).map(Some)
    }

    /// `key = 0.5` (or a whole number) as an `f64`.
    pub(crate) fn take_float(&mut self, name: &str) -> syn::Result<Option<At<f64>>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        let value = match &expr {
            Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => f.base10_parse::<f64>().ok(),
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<f64>().ok(),
            _ => None,
        };
        match value {
            Some(value) if value.is_finite() => Ok(Some(At { value, span: expr.span() })),
            _ => Err(syn::Error::new_spanned(expr, format!("`{written}` takes a number, e.g. `{written} = 0.5`"))),
        }
    }

    /// `key = "2s"`, or its alias `key_ms = 2000`, in milliseconds.
    pub(crate) fn take_duration(&mut self, name: &str) -> syn::Result<Option<Millis>> {
        let alias = self.keys.iter().find(|k| k.name == name).and_then(|k| k.ms_alias);
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        if alias.is_some_and(|alias| written == alias) {
            let value = int_in::<u64>(&written, &expr, 0)?;
            return Ok(Some(At { value, span: expr.span() }));
        }
        let hint = match alias {
            Some(alias) => format!(" (or `{alias} = 500` in milliseconds)"),
            None => String::new(),
        };
        let error = |tokens: &dyn ToTokens| {
            syn::Error::new_spanned(
                tokens,
                format!(
                    "`{written}` takes a duration string with a unit: \"500ms\", \"5s\", \"10m\", \"24h\" or \"7d\"{hint}"
                ),
            )
        };
        let lit = match &expr {
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => lit,
            other => return Err(error(other)),
        };
        match duration_ms(&lit.value()) {
            Ok(ms) => Ok(Some(At { value: ms, span: lit.span() })),
            Err(DurationError::Malformed) => Err(error(lit)),
            Err(DurationError::TooLong) => Err(syn::Error::new_spanned(
                lit,
                format!("`{written}` = {} is too long: at most {} ms", lit.token(), u64::MAX),
            )),
        }
    }

    /// `key = ["a", "b"]` (or a single `key = "a"`): string literals, at
    /// least one.
    pub(crate) fn take_list(&mut self, name: &str) -> syn::Result<Option<Vec<LitStr>>> {
        let Some((written, expr)) = self.take_value(name)? else { return Ok(None) };
        let hint = format!("`{written}` takes a list of string literals: `{written} = [\"...\", \"...\"]`");
        let elems: Vec<Expr> = match expr {
            Expr::Array(ExprArray { elems, .. }) if !elems.is_empty() => elems.into_iter().collect(),
            single @ Expr::Lit(ExprLit { lit: Lit::Str(_), .. }) => vec![single],
            other => return Err(syn::Error::new_spanned(other, hint)),
        };
        elems
            .into_iter()
            .map(|elem| match elem {
                Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Ok(lit),
                other => Err(syn::Error::new_spanned(other, &hint)),
            })
            .collect::<syn::Result<Vec<_>>>()
            .map(Some)
    }

    /// `key(inner = value, ...)`: the nested arguments, parsed against
    /// `keys` (take them, then [`Args::finish`] them too).
    pub(crate) fn take_nested(&mut self, name: &str, keys: &'static [Key]) -> syn::Result<Option<Args>> {
        let Some(index) = self.find(name) else { return Ok(None) };
        let entry = &mut self.entries[index];
        entry.taken = true;
        let written = &entry.written;
        let allowed = allowed(keys);
        match &entry.value {
            Value::List(list) if matches!(list.delimiter, MacroDelimiter::Paren(_)) => {
                Args::parse_in(format!("`{written}(...)`"), list.tokens.clone(), keys, list.span()).map(Some)
            }
            Value::Expr(expr) => Err(syn::Error::new_spanned(
                expr,
                format!("`{written}` is written `{written}(key = value, ...)` with keys {allowed}"),
            )),
            Value::List(list) => Err(syn::Error::new_spanned(
                list,
                format!("`{written}` is written `{written}(key = value, ...)` with keys {allowed}"),
            )),
            Value::Bare(path) => Err(syn::Error::new_spanned(
                path,
                format!("`{written}` is written `{written}(key = value, ...)` with keys {allowed}"),
            )),
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        let key = self.keys.iter().position(|k| k.name == name)?;
        self.entries.iter().position(|e| e.key == Some(key) && !e.taken)
    }

    /// Marks `name` taken and returns its `= value`, as written.
    fn take_value(&mut self, name: &str) -> syn::Result<Option<(Ident, Expr)>> {
        let Some(index) = self.find(name) else { return Ok(None) };
        let entry = &mut self.entries[index];
        entry.taken = true;
        let written = entry.written.clone();
        let wrong = |tokens: &dyn ToTokens| {
            syn::Error::new_spanned(tokens, format!("`{written}` is written `{written} = value`"))
        };
        match &entry.value {
            Value::Expr(expr) => Ok(Some((written, expr.clone()))),
            Value::List(list) => Err(wrong(list)),
            Value::Bare(path) => Err(wrong(path)),
        }
    }

    /// The one error for an argument that is not allowed here or given
    /// twice, listing what is allowed.
    fn reject(&self, key: &dyn ToTokens, problem: &str, written: &str, note: &str) -> syn::Error {
        let (context, allowed) = (&self.context, allowed(self.keys));
        syn::Error::new_spanned(key, format!("{problem} argument `{written}` of {context}{note}; allowed: {allowed}"))
    }

    fn unknown(&self, key: &dyn ToTokens, written: &str) -> syn::Error {
        self.reject(key, "unknown", written, "")
    }

    fn duplicate(&self, again: &Ident, first: &Ident) -> syn::Error {
        let note = if again == first {
            " (give each once)".to_owned()
        } else {
            format!(" (`{first}` is given: write one form)")
        };
        self.reject(again, "duplicate", &again.to_string(), &note)
    }
}

/// "`init`, `budget` (or `budget_ms`)".
fn allowed(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| match k.ms_alias {
            Some(alias) => format!("`{}` (or `{alias}`)", k.name),
            None => format!("`{}`", k.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A whole-number literal as a `T` of at least `min`, or an error on it
/// saying the range.
fn int_in<T: Int>(written: &Ident, expr: &Expr, min: T) -> syn::Result<T> {
    let range = format!("`{written}` takes a whole number from {min} to {} (a `{}`)", T::MAX, T::NAME);
    let Expr::Lit(ExprLit { lit: Lit::Int(lit), .. }) = expr else {
        return Err(syn::Error::new_spanned(expr, range));
    };
    if !lit.suffix().is_empty() {
        return Err(syn::Error::new_spanned(lit, format!("{range}, without a type suffix")));
    }
    match lit.base10_digits().parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        Ok(n) => Err(syn::Error::new_spanned(lit, format!("{range}; `{n}` is too small"))),
        Err(_) => Err(syn::Error::new_spanned(lit, format!("{range}; `{}` does not fit", lit.base10_digits()))),
    }
}

#[derive(Debug, PartialEq)]
enum DurationError {
    Malformed,
    TooLong,
}

/// `"500ms"`, `"5s"`, `"10m"`, `"24h"`, `"7d"` in milliseconds.
fn duration_ms(text: &str) -> Result<u64, DurationError> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(DurationError::Malformed),
    };
    if number.is_empty() {
        return Err(DurationError::Malformed);
    }
    number.parse::<u64>().ok().and_then(|n| n.checked_mul(factor)).ok_or(DurationError::TooLong)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    const KEYS: &[Key] = &[
        Key::new("init"),
        Key::new("name"),
        Key::new("flag"),
        Key::new("count"),
        Key::new("rate"),
        Key::new("keys"),
        Key::duration_or_ms("budget", "budget_ms"),
        Key::new("retry"),
    ];
    const RETRY: &[Key] = &[Key::new("attempts"), Key::duration_or_ms("initial_delay", "initial_delay_ms")];

    fn parse(tokens: TokenStream) -> syn::Result<Args> {
        Args::parse("demo", tokens, KEYS)
    }

    fn message<T>(result: syn::Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn takes_every_kind_of_value() {
        let mut args = parse(quote! {
            init = setup::init, name = "orders", flag = true, count = 42, rate = 0.5,
            keys = ["/a", "/b"], budget = "2s", retry(attempts = 3, initial_delay_ms = 50),
        })
        .unwrap();
        assert_eq!(args.take_path("init").unwrap().unwrap().to_token_stream().to_string(), "setup :: init");
        assert_eq!(args.take_str("name").unwrap().unwrap().value(), "orders");
        assert_eq!(args.take_bool("flag").unwrap(), Some(true));
        assert_eq!(args.take_int::<u32>("count").unwrap(), Some(42));
        assert_eq!(args.take_float("rate").unwrap().unwrap().value, 0.5);
        let keys: Vec<String> = args.take_list("keys").unwrap().unwrap().iter().map(LitStr::value).collect();
        assert_eq!(keys, ["/a", "/b"]);
        assert_eq!(args.take_duration("budget").unwrap().unwrap().value, 2_000);
        let mut retry = args.take_nested("retry", RETRY).unwrap().unwrap();
        assert_eq!(retry.take_int::<u32>("attempts").unwrap(), Some(3));
        assert_eq!(retry.take_duration("initial_delay").unwrap().unwrap().value, 50, "the `_ms` alias");
        retry.finish().unwrap();
        args.finish().unwrap();
    }

    #[test]
    fn absent_keys_are_none_and_nothing_is_left() {
        let mut args = parse(TokenStream::new()).unwrap();
        assert!(args.take_path("init").unwrap().is_none());
        assert!(args.take_duration("budget").unwrap().is_none());
        assert!(args.take_nested("retry", RETRY).unwrap().is_none());
        assert!(args.given("count").is_none());
        args.finish().unwrap();
    }

    #[test]
    fn a_single_string_is_a_list_of_one() {
        let mut args = parse(quote! { keys = "/id" }).unwrap();
        assert_eq!(args.take_list("keys").unwrap().unwrap().len(), 1);
    }

    #[test]
    fn unknown_keys_are_reported_by_finish_listing_what_is_allowed() {
        let mut args = parse(quote! { init = setup, timeout = 3 }).unwrap();
        args.take_path("init").unwrap();
        assert_eq!(
            message(args.finish()),
            "unknown argument `timeout` of `#[demo]`; allowed: `init`, `name`, `flag`, `count`, `rate`, `keys`, \
             `budget` (or `budget_ms`), `retry`"
        );
        let args = parse(quote! { a::b = 1 });
        assert!(message(args).starts_with("unknown argument `a :: b` of `#[demo]`"));
    }

    #[test]
    fn a_key_or_an_alias_given_twice_is_a_duplicate() {
        assert!(message(parse(quote! { init = a, init = b })).starts_with("duplicate argument `init` of `#[demo]`"));
        assert!(
            message(parse(quote! { budget = "2s", budget_ms = 2000 })).starts_with(
                "duplicate argument `budget_ms` of `#[demo]` (`budget` is given: write one form); allowed:"
            )
        );
        assert!(message(parse(quote! { budget_ms = 1, budget = "2s" })).starts_with("duplicate argument `budget`"));
        assert!(message(parse(quote! { typo = 1, typo = 2 })).starts_with("duplicate argument `typo`"));
    }

    #[test]
    fn nested_lists_have_their_own_keys() {
        let mut args = parse(quote! { retry(attempts = 3, delay = 100) }).unwrap();
        let mut retry = args.take_nested("retry", RETRY).unwrap().unwrap();
        retry.take_int::<u32>("attempts").unwrap();
        assert_eq!(
            message(retry.finish()),
            "unknown argument `delay` of `retry(...)`; allowed: `attempts`, `initial_delay` (or `initial_delay_ms`)"
        );
        let mut args = parse(quote! { retry(initial_delay = "1s", initial_delay_ms = 5) }).unwrap();
        assert!(message(args.take_nested("retry", RETRY)).starts_with("duplicate argument `initial_delay_ms`"));
        let mut args = parse(quote! { retry = 3 }).unwrap();
        assert!(message(args.take_nested("retry", RETRY)).starts_with("`retry` is written `retry(key = value, ...)`"));
    }

    #[test]
    fn a_number_that_does_not_fit_is_an_error() {
        let mut args = parse(quote! { count = 5000000000 }).unwrap();
        assert_eq!(
            message(args.take_int::<u32>("count")),
            "`count` takes a whole number from 0 to 4294967295 (a `u32`); `5000000000` does not fit"
        );
        let mut args = parse(quote! { count = 5000000000 }).unwrap();
        assert_eq!(args.take_int::<u64>("count").unwrap(), Some(5_000_000_000));
        let mut args = parse(quote! { count = 0 }).unwrap();
        assert!(message(args.take_int_from::<usize>("count", 1)).ends_with("(a `usize`); `0` is too small"));
        let mut args = parse(quote! { count = -1 }).unwrap();
        assert!(message(args.take_int::<u32>("count")).starts_with("`count` takes a whole number"));
        let mut args = parse(quote! { count = 3u8 }).unwrap();
        assert!(message(args.take_int::<u32>("count")).ends_with("without a type suffix"));
    }

    #[test]
    fn values_of_the_wrong_shape_are_errors() {
        let mut args = parse(quote! { init = "init", name = 3, flag = "yes", rate = "x", keys = [a] }).unwrap();
        assert_eq!(message(args.take_path("init")), "`init` takes the path of a function");
        assert_eq!(message(args.take_str("name")), "`name` takes a string literal");
        assert_eq!(message(args.take_bool("flag")), "`flag` takes `true` or `false`");
        assert!(message(args.take_float("rate")).starts_with("`rate` takes a number"));
        assert!(message(args.take_list("keys")).starts_with("`keys` takes a list of string literals"));
        let mut args = parse(quote! { keys = [] }).unwrap();
        assert!(args.take_list("keys").is_err(), "an empty list");
        let mut flags = parse(quote! { flag, count = false, rate = 3 }).unwrap();
        assert_eq!(flags.take_flag("flag").unwrap(), Some(true));
        assert_eq!(flags.take_flag("count").unwrap(), Some(false));
        assert_eq!(message(flags.take_flag("rate")), "`rate` is written `rate` or `rate = false`");
        let mut args = parse(quote! { init(x), flag }).unwrap();
        assert_eq!(message(args.take_path("init")), "`init` is written `init = value`");
        assert_eq!(message(args.take_bool("flag")), "`flag` is written `flag = value`");
    }

    #[test]
    fn durations_take_a_unit_and_the_ms_alias_a_number() {
        for (text, ms) in [("0ms", 0), ("500ms", 500), ("5s", 5_000), ("10m", 600_000), ("24h", 86_400_000)] {
            assert_eq!(duration_ms(text), Ok(ms), "{text}");
        }
        assert_eq!(duration_ms("7d"), Ok(604_800_000));
        for text in ["5", "", "ms", "1.5s", "5 s", "5S", "-5s", "5sec"] {
            assert_eq!(duration_ms(text), Err(DurationError::Malformed), "{text}");
        }
        assert_eq!(duration_ms("99999999999999999999d"), Err(DurationError::TooLong));
        assert_eq!(duration_ms("999999999999999999d"), Err(DurationError::TooLong));

        let mut args = parse(quote! { budget = "2" }).unwrap();
        assert_eq!(
            message(args.take_duration("budget")),
            "`budget` takes a duration string with a unit: \"500ms\", \"5s\", \"10m\", \"24h\" or \"7d\" \
             (or `budget_ms = 500` in milliseconds)"
        );
        let mut args = parse(quote! { budget = 2000 }).unwrap();
        assert!(message(args.take_duration("budget")).starts_with("`budget` takes a duration string"));
        let mut args = parse(quote! { budget_ms = "2s" }).unwrap();
        assert!(message(args.take_duration("budget")).starts_with("`budget_ms` takes a whole number from 0"));
        let mut args = parse(quote! { budget = "999999999999999999d" }).unwrap();
        assert!(message(args.take_duration("budget")).contains("is too long"));
        const WAIT: &[Key] = &[Key::new("wait")];
        let mut args = Args::parse("demo", quote! { wait = "5" }, WAIT).unwrap();
        assert!(message(args.take_duration("wait")).ends_with("or \"7d\""), "no alias, no hint");
    }

    #[test]
    fn a_duration_expands_to_a_std_duration() {
        let ms = Millis { value: 1500, span: Span::call_site() };
        assert_eq!(
            ms.to_token_stream().to_string(),
            quote! { ::std::time::Duration::from_millis(1500u64) }.to_string()
        );
    }

    #[test]
    fn given_names_the_key_as_written() {
        let args = parse(quote! { budget_ms = 5 }).unwrap();
        assert_eq!(args.given("budget").unwrap(), "budget_ms");
    }
}

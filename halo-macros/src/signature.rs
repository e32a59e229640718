//! The one place the macros check a function's signature: `async` (or
//! not), a free fn (no `self`, no generics), the parameter count, named
//! parameters, and the return type (`Result<..>`).
//!
//! Each check is a method of [`Signature`], which knows the attribute it
//! checks for: every error names it as `#[halo::…]`, is spanned on the
//! offending token and says what to write.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

/// A function's signature, checked for the attribute `#[{attr}]`.
pub(crate) struct Signature<'f> {
    /// The attribute's path, e.g. `halo::handler`.
    attr: &'static str,
    sig: &'f syn::Signature,
}

/// A parameter bound to a plain name (`name: Type`).
pub(crate) struct Param<'f> {
    pub(crate) ident: &'f Ident,
    pub(crate) ty: &'f Type,
}

impl<'f> Signature<'f> {
    /// The signature of `function`, checked for `#[{attr}]` (`attr` is
    /// the attribute's path, `halo::handler`).
    pub(crate) fn new(attr: &'static str, function: &'f ItemFn) -> Signature<'f> {
        Signature { attr, sig: &function.sig }
    }

    /// An error spanned on `span` that starts with the attribute's name:
    /// "`#[halo::handler]` {message}".
    pub(crate) fn error(&self, span: Span, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new(span, format!("`#[{}]` {message}", self.attr))
    }

    /// The same, spanned on all of `tokens` (from their first to their
    /// last token).
    pub(crate) fn error_on(&self, tokens: &dyn ToTokens, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new_spanned(tokens, format!("`#[{}]` {message}", self.attr))
    }

    /// An `async fn`; else an error on `fn`: "needs an `async fn`: write
    /// `{write}`".
    pub(crate) fn require_async(&self, write: &str) -> syn::Result<()> {
        match self.sig.asyncness {
            Some(_) => Ok(()),
            None => Err(self.error(self.sig.fn_token.span(), format!("needs an `async fn`: write `{write}`"))),
        }
    }

    /// A plain (not `async`) fn; else an error on `async`: "needs a plain
    /// `fn` {why}".
    pub(crate) fn require_not_async(&self, why: &str) -> syn::Result<()> {
        match &self.sig.asyncness {
            None => Ok(()),
            Some(asyncness) => Err(self.error(asyncness.span(), format!("needs a plain `fn` {why}"))),
        }
    }

    /// A free fn: no `self` (an error on it) and no generic parameters (an
    /// error on them, ending with `generics_hint`).
    pub(crate) fn require_free(&self, generics_hint: &str) -> syn::Result<()> {
        if let Some(receiver) = self.sig.receiver() {
            return Err(self.error_on(
                receiver,
                "needs a free function, not a method: remove `self` (call the function from the method)",
            ));
        }
        let generics = &self.sig.generics;
        if !generics.params.is_empty() || generics.where_clause.is_some() {
            let message = format!("needs a function without generic parameters: {generics_hint}");
            return Err(match &generics.where_clause {
                Some(clause) if generics.params.is_empty() => self.error_on(clause, message),
                _ => self.error_on(generics, message),
            });
        }
        Ok(())
    }

    /// The number of parameters (`self` included).
    pub(crate) fn param_count(&self) -> usize {
        self.sig.inputs.len()
    }

    /// An error about the parameters as a whole, spanned on them (on the
    /// parentheses when there are none).
    pub(crate) fn params_error(&self, message: impl std::fmt::Display) -> syn::Error {
        if self.sig.inputs.is_empty() {
            self.error(self.sig.paren_token.span.join(), message)
        } else {
            self.error_on(&self.sig.inputs, message)
        }
    }

    /// Exactly `count` parameters; else an error on them: "takes
    /// {shape}; found N".
    pub(crate) fn require_param_count(&self, count: usize, shape: &str) -> syn::Result<()> {
        if self.param_count() == count {
            return Ok(());
        }
        Err(self.params_error(format!("takes {shape}; found {}", self.param_count())))
    }

    /// The type of the `index`th parameter, when it is not `self`.
    pub(crate) fn param_type(&self, index: usize) -> Option<&'f Type> {
        match self.sig.inputs.iter().nth(index)? {
            FnArg::Typed(typed) => Some(&typed.ty),
            FnArg::Receiver(_) => None,
        }
    }

    /// The `index`th parameter is a reference (`&T` or `&mut T`); else an
    /// error on its type: "{message}".
    pub(crate) fn require_reference(&self, index: usize, message: &str) -> syn::Result<()> {
        match self.param_type(index) {
            Some(ty) if !is_reference(ty) => Err(self.error_on(ty, message)),
            _ => Ok(()),
        }
    }

    /// Every parameter bound to a plain name; else an error on `self` or
    /// on the first pattern.
    pub(crate) fn named_params(&self) -> syn::Result<Vec<Param<'f>>> {
        self.sig.inputs.iter().map(|arg| self.named(arg, "each parameter")).collect()
    }

    /// `arg` as a parameter bound to a plain name; else an error on it:
    /// "needs {which} bound to a name".
    pub(crate) fn named(&self, arg: &'f FnArg, which: &str) -> syn::Result<Param<'f>> {
        match arg {
            FnArg::Typed(typed) => match typed.pat.as_ref() {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    Ok(Param { ident: &pat.ident, ty: &typed.ty })
                }
                other => Err(self.error_on(
                    other,
                    format!(
                        "needs {which} bound to a name (`name: Type`), not a pattern: bind a name and \
                         destructure it in the body"
                    ),
                )),
            },
            FnArg::Receiver(receiver) => Err(self.error_on(
                receiver,
                "needs a free function, not a method: remove `self` (call the function from the method)",
            )),
        }
    }

    /// The parameters, `self` included, in order.
    pub(crate) fn inputs(&self) -> impl Iterator<Item = &'f FnArg> + 'f {
        self.sig.inputs.iter()
    }

    /// The declared return type; else an error after the parameters:
    /// "needs a function returning {write}".
    pub(crate) fn require_return(&self, write: &str) -> syn::Result<&'f Type> {
        match &self.sig.output {
            ReturnType::Type(_, ty) => Ok(ty),
            ReturnType::Default => {
                Err(self.error(self.sig.paren_token.span.close(), format!("needs a function returning {write}")))
            }
        }
    }

    /// `T` and `E` of a return type written `Result<T, E>` (any path
    /// ending in `Result`); else an error on the return type (or after
    /// the parameters): "needs a function returning {write}".
    pub(crate) fn require_result(&self, write: &str) -> syn::Result<(&'f Type, &'f Type)> {
        let ty = self.require_return(write)?;
        match result_args(ty) {
            Some((ok, Some(err))) => Ok((ok, err)),
            _ => Err(self.error_on(ty, format!("needs a function returning {write}"))),
        }
    }

    /// `T` and, when written, `E` of the return type `Result<T, E>`, or
    /// `Result<T>` for an alias with a fixed error; `None` for any other
    /// return type (the type checks then report it).
    pub(crate) fn result_types(&self) -> Option<(&'f Type, Option<&'f Type>)> {
        match &self.sig.output {
            ReturnType::Type(_, ty) => result_args(ty),
            ReturnType::Default => None,
        }
    }
}

/// `T` and `E` of a type written `Result<T, E>`, or `T` of `Result<T>`
/// (any path ending in `Result`).
fn result_args(ty: &Type) -> Option<(&Type, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last().filter(|segment| segment.ident == "Result")?;
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(ok), err, None) => Some((ok, err)),
        _ => None,
    }
}

/// `&T` or `&mut T`.
pub(crate) fn is_reference(ty: &Type) -> bool {
    matches!(ty, Type::Reference(_))
}

/// `&Ctx` (any path ending in `Ctx`): the invocation's context.
pub(crate) fn is_ctx_ref(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else { return false };
    matches!(reference.elem.as_ref(), Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Ctx"))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn function(tokens: proc_macro2::TokenStream) -> ItemFn {
        syn::parse2(tokens).unwrap()
    }

    fn message<T>(result: syn::Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn every_error_names_the_attribute() {
        let f = function(quote! { fn f<T>(&self, (a, b): (u8, u8)) {} });
        let sig = Signature::new("halo::demo", &f);
        assert_eq!(
            message(sig.require_async("async fn f()")),
            "`#[halo::demo]` needs an `async fn`: write `async fn f()`"
        );
        assert!(message(sig.require_free("name the types")).starts_with("`#[halo::demo]` needs a free function"));
        assert!(message(sig.named_params()).starts_with("`#[halo::demo]` needs a free function"));
        assert!(
            message(sig.named(&f.sig.inputs[1], "the payload")).starts_with("`#[halo::demo]` needs the payload bound")
        );
        assert_eq!(
            message(sig.require_param_count(1, "one parameter")),
            "`#[halo::demo]` takes one parameter; found 2"
        );
        assert_eq!(
            message(sig.require_return("`Result<T, E>`")),
            "`#[halo::demo]` needs a function returning `Result<T, E>`"
        );
        let f = function(quote! { async fn f<T>() {} });
        let sig = Signature::new("halo::demo", &f);
        assert_eq!(
            message(sig.require_free("name the types")),
            "`#[halo::demo]` needs a function without generic parameters: name the types"
        );
        assert!(message(sig.require_not_async("that builds it")).starts_with("`#[halo::demo]` needs a plain `fn`"));
    }

    #[test]
    fn result_types_are_read_from_any_path_ending_in_result() {
        let f = function(quote! { async fn f() -> std::result::Result<u8, E> {} });
        let (ok, err) = Signature::new("halo::demo", &f).require_result("`Result`").unwrap();
        assert_eq!((quote!(#ok).to_string(), quote!(#err).to_string()), ("u8".to_owned(), "E".to_owned()));
        let f = function(quote! { async fn f() -> anyhow::Result<u8> {} });
        let sig = Signature::new("halo::demo", &f);
        assert!(sig.result_types().is_some_and(|(_, err)| err.is_none()));
        assert!(sig.require_result("`Result<T, E>`").is_err(), "the error type must be written");
        let f = function(quote! { async fn f() -> String {} });
        assert!(Signature::new("halo::demo", &f).result_types().is_none());
    }

    #[test]
    fn ctx_references_are_recognised() {
        let f = function(quote! { async fn f(a: &halo::Ctx, b: &Ctx, c: Ctx, d: &State) {} });
        let found: Vec<bool> =
            f.sig.inputs.iter().map(|arg| matches!(arg, FnArg::Typed(t) if is_ctx_ref(&t.ty))).collect();
        assert_eq!(found, [true, true, false, false]);
    }
}

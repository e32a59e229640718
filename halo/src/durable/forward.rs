//! [`forward_store!`]: a store trait implemented for `Arc<S>`, `Box<S>` and
//! `&S` of any store `S`, written once.

/// Implements the store trait `$store` for `Arc<S>`, `Box<S>` and `&S`,
/// each method calling `S`'s. List the trait's methods with their
/// signatures:
///
/// ```ignore
/// forward_store!(SagaLog {
///     fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>>;
/// });
/// ```
macro_rules! forward_store {
    ($store:ident {
        $(fn $method:ident<$a:lifetime>(&$self_lifetime:lifetime self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*
    }) => {
        $crate::durable::forward_store!(@one $store, std::sync::Arc<S>, $(fn $method<$a>(&$self_lifetime self $(, $arg: $ty)*) -> $ret;)*);
        $crate::durable::forward_store!(@one $store, Box<S>, $(fn $method<$a>(&$self_lifetime self $(, $arg: $ty)*) -> $ret;)*);
        $crate::durable::forward_store!(@one $store, &S, $(fn $method<$a>(&$self_lifetime self $(, $arg: $ty)*) -> $ret;)*);
    };
    (@one $store:ident, $wrapper:ty, $(fn $method:ident<$a:lifetime>(&$self_lifetime:lifetime self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl<S: $store + ?Sized> $store for $wrapper {
            $(fn $method<$a>(&$self_lifetime self $(, $arg: $ty)*) -> $ret {
                (**self).$method($($arg),*)
            })*
        }
    };
}

pub(crate) use forward_store;

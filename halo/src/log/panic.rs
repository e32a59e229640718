//! A panic hook that logs panics as JSON lines.

use std::any::Any;
use std::sync::Once;

/// Replaces the default panic hook (which prints plain text) with one that
/// logs the panic as an `ERROR` JSON line with `panic_message` and
/// `panic_location`, so every line on stderr stays JSON. Installed once;
/// later calls do nothing.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = panic_message(info.payload());
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            tracing::error!(panic_message = message, panic_location = location, "panic");
        }));
    });
}

/// The text of a panic payload (`&str` or `String`; anything else is opaque).
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "non-string panic payload"
    }
}

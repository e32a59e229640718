//! Correlation id validation and generation.

/// The longest correlation id halo accepts from outside.
pub(crate) const MAX_LEN: usize = 128;

/// Whether `id` is acceptable as a correlation id: 1 to 128 characters from
/// `[A-Za-z0-9._:/+=-]`. Anything else (spaces, quotes, backslashes,
/// control characters, newlines, non-ASCII) could forge log lines or
/// headers downstream. The alphabet covers every id AWS generates: UUIDs,
/// X-Ray roots such as `1-5759e988-bd862e3fe1be46a994272793`, the base64
/// request ids of HTTP APIs and Function URLs such as `JKJaXmPLvHcESHA=`.
///
/// ```
/// use halo::correlation::is_valid_id;
///
/// assert!(is_valid_id("order-42:retry/1.5_x"));
/// assert!(is_valid_id("JKJaXmPLvHcESHA="), "an HTTP API request id");
/// assert!(!is_valid_id(""));
/// assert!(!is_valid_id("a\nlevel=ERROR"));
/// assert!(!is_valid_id(&"a".repeat(129)));
/// ```
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'+' | b'=' | b'-'))
}

/// A new correlation id (a random UUID v4).
pub fn generate_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

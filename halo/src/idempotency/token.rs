//! The downstream token: a stable id of one idempotent call, for the
//! services it calls.

use super::key::md5_hex;

tokio::task_local! {
    static TOKEN: String;
}

/// The longest name prefix a token keeps.
const PREFIX_LEN: usize = 31;

/// The token of the record key `key`:
/// `<name>-<md5 hex of the whole key>`, where `<name>` is the part of the
/// key before its last `#` with every character outside `A-Z a-z 0-9 _ -`
/// replaced by `_`, cut to 31 characters (omitted with its `-` when empty).
///
/// At most 64 characters, all of them safe in an HTTP header value and in
/// the idempotency-key fields of payment providers. It depends on the key
/// only, so every retry of the same payload (in any container, after a
/// crash, after the record expired) gets the same token, and two functions
/// (two names) never share one.
///
/// ```
/// use halo::idempotency::{key_for, token_for};
///
/// let key = key_for("charge", &serde_json::json!("p-1"));
/// let token = token_for(&key);
/// assert!(token.starts_with("charge-") && token.len() == "charge-".len() + 32);
/// assert_eq!(token, token_for(&key), "stable");
/// assert_ne!(token, token_for(&key_for("refund", &serde_json::json!("p-1"))));
/// ```
pub fn token_for(key: &str) -> String {
    let name = key.rsplit_once('#').map_or("", |(name, _)| name);
    let prefix: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(PREFIX_LEN)
        .collect();
    let hash = md5_hex(key.as_bytes());
    if prefix.is_empty() { hash } else { format!("{prefix}-{hash}") }
}

/// The token of the idempotent call whose function body is running now
/// (see [`token_for`]): pass it to the services the body calls as *their*
/// idempotency key (`Idempotency-Key` header, a provider's request id) and
/// derive the ids of what the body creates from it.
///
/// `None` outside such a body, and inside one that runs without
/// idempotency (key fields absent, idempotency turned off).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::idempotency::{IdempotencyConfig, Idempotency, MemoryIdempotencyStore, current_token};
///
/// let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/payment_id"])).with_store(MemoryIdempotencyStore::new());
/// let event = serde_json::json!({ "payment_id": "p-1" });
/// let token: String = charge.run(&event, None, async { Ok::<_, halo::Error>(current_token().unwrap()) }).await.unwrap();
/// assert_eq!(token, charge.key_of(&event).unwrap().unwrap().token());
/// assert_eq!(current_token(), None, "outside the body");
/// # });
/// ```
pub fn current_token() -> Option<String> {
    TOKEN.try_with(String::clone).ok()
}

/// Runs `future` with `token` as the [`current_token`].
pub(crate) async fn scope<F: Future>(token: String, future: F) -> F::Output {
    TOKEN.scope(token, future).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_short_header_safe_and_keep_a_readable_prefix() {
        let long = format!("{}#abc", "ü x/".repeat(40));
        for key in ["charge#0123", "#abc", "no-hash", long.as_str(), "a#b#c"] {
            let token = token_for(key);
            assert!(token.len() <= 64, "{key}: {token}");
            assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'), "{token}");
            assert!(http::HeaderValue::from_str(&token).is_ok());
        }
        assert_eq!(token_for("#abc"), md5_hex(b"#abc"));
        assert_eq!(token_for("no-hash"), md5_hex(b"no-hash"));
        assert!(token_for("a#b#c").starts_with("a_b-"));
        assert!(token_for("charge#0123").starts_with("charge-"));
    }
}

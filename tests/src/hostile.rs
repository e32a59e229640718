//! Hostile text for property-based tests of what a client controls.

use proptest::prelude::*;

/// Marks caller text: it never appears in halo's own messages, so finding
/// it in a response body means the caller's input was echoed.
pub const SENTINEL: &str = "QX7";

/// Hostile text: printable ASCII with quotes, braces and angle brackets,
/// broken percent escapes, control characters and newlines (a forged log
/// line among them), non-ASCII, sometimes up to `max_len` bytes long;
/// always starting with [`SENTINEL`].
pub fn text(max_len: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[ -~]{0,12}",
        Just("\"}{\\".to_owned()),
        Just("%zz%4".to_owned()),
        Just("\n{\"level\":\"ERROR\"}\r\n".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("\u{0}\u{1b}[31m\u{7f}".to_owned()),
        Just("é💥\u{202e}".to_owned()),
        (1usize..max_len.max(2)).prop_map(|n| "q".repeat(n)),
    ];
    proptest::collection::vec(piece, 1..4).prop_map(|pieces| format!("{SENTINEL}{}", pieces.concat()))
}

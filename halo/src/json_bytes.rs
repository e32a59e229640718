//! Byte searches over JSON text, eight bytes at a time: a `u64` holds
//! eight bytes, and a few integer operations test them all at once. Event
//! keys, ids and log fields are short strings, where this beats the set-up
//! of a vectorised search; long strings (a body) go on to `memchr` after
//! the first [`SHORT`] bytes.

/// A one in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// How many bytes are searched eight at a time before `memchr` takes over.
const SHORT: usize = 64;

/// The high bit set in the bytes of `word` that are zero. Bits above the
/// first zero byte can be set wrongly (a borrow), so only the lowest set
/// bit, and whether there is one, mean anything.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// [`zero_bytes`] of the bytes of `word` equal to `byte`.
fn bytes_equal(word: u64, byte: u8) -> u64 {
    zero_bytes(word ^ (ONES * u64::from(byte)))
}

/// The high bit set in the bytes of `word` below 0x20 (JSON's control
/// characters), with [`zero_bytes`]' caveat.
fn control_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & HIGHS
}

/// Bytes that end a JSON string's plain run: a quote or a backslash.
fn quote_or_backslash(word: u64) -> u64 {
    bytes_equal(word, b'"') | bytes_equal(word, b'\\')
}

/// Eight bytes as one word, first byte lowest.
fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    u64::from_le_bytes(bytes)
}

/// The position of the first byte of the word's mask.
fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Whether `text` holds a byte that a JSON string must escape: a control
/// character, a quote or a backslash.
pub(crate) fn needs_json_escape(text: &[u8]) -> bool {
    find(text, |word| control_bytes(word) | quote_or_backslash(word), |b| b < 0x20 || b == b'"' || b == b'\\').is_some()
}

/// Bytes that matter when skipping a JSON container: a quote or a
/// bracket. Or-ing 0x20 folds `[` onto `{` and `]` onto `}` (and nothing
/// else onto either).
fn structure(word: u64) -> u64 {
    let folded = word | (ONES * 0x20);
    bytes_equal(word, b'"') | bytes_equal(folded, b'{') | bytes_equal(folded, b'}')
}

/// The position of the first quote or bracket (`"`, `{`, `}`, `[`, `]`) in
/// `bytes`.
pub(crate) fn find_structure(bytes: &[u8]) -> Option<usize> {
    find(bytes, structure, |b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))
}

/// The position of the first quote or backslash in `bytes`.
#[inline(always)]
pub(crate) fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    let short = &bytes[..bytes.len().min(SHORT)];
    if let Some(found) = find(short, quote_or_backslash, |b| b == b'"' || b == b'\\') {
        return Some(found);
    }
    memchr::memchr2(b'"', b'\\', &bytes[short.len()..]).map(|found| short.len() + found)
}

/// The position of the first byte of `bytes` that `mask` marks in a word
/// (its [`zero_bytes`] form), eight bytes at a time; the last few bytes,
/// fewer than eight, by `is_match`.
#[inline(always)]
fn find(bytes: &[u8], mask: impl Fn(u64) -> u64, is_match: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let found = mask(word(chunk));
        if found != 0 {
            return Some(at + first(found));
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| is_match(b)).map(|found| at + found)
}

/// Appends `value` as a JSON string (quoted and escaped).
pub(crate) fn push_json_str(out: &mut Vec<u8>, value: &str) {
    // Ids, names and most messages need no escaping: copied as they are.
    if !needs_json_escape(value.as_bytes()) {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn model_escape(text: &[u8]) -> bool {
        text.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
    }

    fn model_find(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| b == b'"' || b == b'\\')
    }

    fn model_structure(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))
    }

    #[test]
    fn finds_the_first_of_several_and_beyond_the_short_part() {
        assert_eq!(find_quote_or_backslash(b"abc\\def\"gh"), Some(3));
        assert_eq!(find_quote_or_backslash(b"abcdefgh\"\\"), Some(8));
        let long = [vec![b'x'; 200], b"\"".to_vec()].concat();
        assert_eq!(find_quote_or_backslash(&long), Some(200));
        assert_eq!(find_quote_or_backslash(&[b'x'; 100]), None);
        // A byte just above a quote and a borrow across bytes do not count.
        assert_eq!(find_quote_or_backslash(b"\x01#\x00!]!!!!\"x"), Some(9));
        assert!(needs_json_escape(b"abcdefgh\x1f"));
        // Bytes that fold near a bracket (`{` is `[` | 0x20) are not one.
        assert_eq!(find_structure(b"abc;{def"), Some(4));
        assert_eq!(find_structure(b"\x1b\x1d\x7b"), Some(2));
        assert_eq!(find_structure(b"k\":1,"), Some(1));
        assert_eq!(find_structure(b"abcdefgh ijklmno ]"), Some(17));
        assert_eq!(find_structure(b"{;;;;;;;;;;;;;;;;"), Some(0));
        assert_eq!(find_structure(b"no structure here"), None);
        assert!(!needs_json_escape("caf\u{e9} \u{1F600} ~ \x7f".as_bytes()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn agrees_with_a_byte_by_byte_search(
            bytes in prop::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), Just(0x1f_u8), Just(0x20_u8), Just(0x21_u8), Just(0x5b_u8), Just(0x5d_u8), Just(b'{'), Just(b'}'), Just(0x1b_u8), Just(0x3b_u8), any::<u8>()],
                0..160,
            ),
            dense in any::<bool>(),
        ) {
            // Mostly plain bytes, so matches also fall late and past the short part.
            let bytes: Vec<u8> = if dense { bytes } else { bytes.iter().map(|&b| if b % 7 == 0 { b } else { b'a' }).collect() };
            prop_assert_eq!(find_quote_or_backslash(&bytes), model_find(&bytes));
            prop_assert_eq!(needs_json_escape(&bytes), model_escape(&bytes));
            prop_assert_eq!(find_structure(&bytes), model_structure(&bytes));
        }
    }
}

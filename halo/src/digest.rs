//! md5 as lowercase hex: idempotency keys and the ids halo derives from
//! a stable name (a durable execution's correlation id).

use md5::{Digest, Md5};

/// The lowercase hex md5 of `bytes`.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Md5::digest(bytes);
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest.iter() {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

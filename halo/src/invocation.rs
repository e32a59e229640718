//! What flows through halo's tower stack: one invocation.

use serde_json::value::RawValue;

use crate::Ctx;

/// One invocation: the raw JSON event and its context.
///
/// This is the request type of every service in halo's tower stack; the
/// response type is the raw JSON response (`Box<RawValue>`) and the error
/// type [`crate::Error`].
#[derive(Debug)]
pub struct Invocation {
    /// The event, as Lambda delivered it (valid JSON, not yet decoded).
    pub payload: Box<RawValue>,
    /// The invocation's context.
    pub ctx: Ctx,
}

impl Invocation {
    /// An invocation of `payload` (which must be valid JSON) with `ctx`.
    ///
    /// ```
    /// let inv = halo::Invocation::from_json(r#"{"hello":"world"}"#, halo::Ctx::for_test()).unwrap();
    /// assert_eq!(inv.payload.get(), r#"{"hello":"world"}"#);
    /// assert!(halo::Invocation::from_json("{oops", halo::Ctx::for_test()).is_err());
    /// ```
    pub fn from_json(payload: &str, ctx: Ctx) -> Result<Invocation, serde_json::Error> {
        Ok(Invocation { payload: serde_json::from_str(payload)?, ctx })
    }
}

//! Compile-time behaviour of halo's macros, used through `halo` as a user
//! would: misuse fails with a spanned, explanatory error (see the
//! `.stderr` files), correct use compiles. One trybuild run builds every
//! case.

#[test]
fn misuse_is_rejected_and_correct_use_compiles() {
    let cases = trybuild::TestCases::new();
    for mac in ["handler", "http", "idempotent", "saga_step", "circuit_breaker"] {
        cases.compile_fail(format!("tests/ui/{mac}/*.rs"));
    }
    cases.pass("tests/ui-pass/*.rs");
}

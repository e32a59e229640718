//! Compile-time behaviour of `#[halo::idempotent]`: misuse fails with a
//! spanned, explanatory error (see the `.stderr` files), correct use on a
//! `#[halo::handler]` compiles in either attribute order.

#[test]
fn idempotent_misuse_is_rejected() {
    trybuild::TestCases::new().compile_fail("tests/ui/idempotent/*.rs");
}

#[test]
fn idempotent_correct_use_compiles() {
    trybuild::TestCases::new().pass("tests/ui-pass/idempotent_*.rs");
}

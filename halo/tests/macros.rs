//! Compile-time behaviour of halo's macros: misuse fails with a spanned,
//! explanatory error (see the `.stderr` files), correct use compiles.

#[test]
fn handler_misuse_is_rejected() {
    trybuild::TestCases::new().compile_fail("tests/ui/handler/*.rs");
}

#[test]
fn handler_correct_use_compiles() {
    trybuild::TestCases::new().pass("tests/ui-pass/handler_*.rs");
}

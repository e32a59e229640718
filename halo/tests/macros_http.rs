//! Compile-time behaviour of `#[halo::http]`: misuse fails with a spanned,
//! explanatory error (see the `.stderr` files); correct use compiles. What
//! the generated `main` serves is tested end to end by `examples/todo-api`.

#[test]
fn http_misuse_is_rejected() {
    trybuild::TestCases::new().compile_fail("tests/ui/http/*.rs");
}

#[test]
fn http_correct_use_compiles() {
    trybuild::TestCases::new().pass("tests/ui-pass/http_*.rs");
}

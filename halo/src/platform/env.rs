//! Where this process runs, from its environment.

/// The variable Lambda (or a Runtime API emulator) sets for a runtime.
pub const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

/// Whether this process runs as a Lambda runtime: `AWS_LAMBDA_RUNTIME_API`
/// is set, inside Lambda or under an emulator. Without it a halo binary is
/// a local command-line tool (`<bin> invoke event.json`).
///
/// ```
/// // Unit tests do not run under a Runtime API.
/// assert_eq!(halo::platform::in_lambda(), std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some());
/// ```
pub fn in_lambda() -> bool {
    std::env::var_os(RUNTIME_API_ENV).is_some()
}

/// The value of the variable `name`, trimmed, when it is set and not empty.
///
/// ```
/// assert_eq!(halo::platform::non_empty_var("HALO_SURELY_UNSET_VARIABLE"), None);
/// ```
pub fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

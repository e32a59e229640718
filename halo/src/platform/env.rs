//! Where this process runs, from its environment.

/// The variable Lambda (or a Runtime API emulator) sets for a runtime.
pub(crate) const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

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
pub(crate) fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The variable Lambda Managed Instances set to the number of invocations
/// one execution environment serves at the same time.
pub(crate) const MAX_CONCURRENCY_ENV: &str = "AWS_LAMBDA_MAX_CONCURRENCY";

/// How many invocations this process serves at once: the value of
/// `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances) when it is a
/// number above 1, else 1 (classic Lambda: one invocation at a time). A
/// value that is not a number counts as 1, as it does for `lambda_runtime`,
/// which runs the polling loops.
///
/// ```
/// let n = halo::platform::max_concurrency();
/// assert!(n >= 1);
/// ```
pub fn max_concurrency() -> usize {
    parse_max_concurrency(std::env::var(MAX_CONCURRENCY_ENV).ok().as_deref())
}

pub(crate) fn parse_max_concurrency(value: Option<&str>) -> usize {
    value.and_then(|v| v.parse::<u32>().ok()).map_or(1, |n| n.max(1) as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_max_concurrency;

    #[test]
    fn max_concurrency_is_at_least_one() {
        assert_eq!(parse_max_concurrency(None), 1);
        assert_eq!(parse_max_concurrency(Some("")), 1);
        assert_eq!(parse_max_concurrency(Some("0")), 1);
        assert_eq!(parse_max_concurrency(Some("-4")), 1);
        assert_eq!(parse_max_concurrency(Some("lots")), 1);
        assert_eq!(parse_max_concurrency(Some("1")), 1);
        assert_eq!(parse_max_concurrency(Some(" 16 ")), 1, "read as lambda_runtime reads it");
        assert_eq!(parse_max_concurrency(Some("16")), 16);
    }
}

//! The rules CloudWatch applies to names, values and namespaces.

use super::error::MetricsError;

/// The root key of EMF's metadata object: no metric, dimension or
/// metadata key may take it.
pub(crate) const AWS_KEY: &str = "_aws";

/// The longest metric name, dimension name or metadata key.
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// The longest dimension value.
pub(crate) const MAX_DIMENSION_VALUE_BYTES: usize = 1024;

/// A metric name: 1 to 255 bytes, not only whitespace, no control
/// characters.
pub(crate) fn metric_name(name: &str) -> Result<(), MetricsError> {
    text(name, "metric name", MAX_NAME_BYTES)?;
    if name.chars().any(char::is_control) {
        return Err(MetricsError::InvalidCharacters { what: "metric name" });
    }
    Ok(())
}

/// A dimension name: 1 to 255 bytes of printable ASCII, not starting with
/// `:`.
pub(crate) fn dimension_name(name: &str) -> Result<(), MetricsError> {
    text(name, "dimension name", MAX_NAME_BYTES)?;
    if name.starts_with(':') || !printable_ascii(name) {
        return Err(MetricsError::InvalidCharacters { what: "dimension name" });
    }
    Ok(())
}

/// A dimension value: 1 to 1024 bytes of printable ASCII.
pub(crate) fn dimension_value(value: &str) -> Result<(), MetricsError> {
    text(value, "dimension value", MAX_DIMENSION_VALUE_BYTES)?;
    if !printable_ascii(value) {
        return Err(MetricsError::InvalidCharacters { what: "dimension value" });
    }
    Ok(())
}

/// A metadata key: 1 to 255 bytes, no control characters, not `_aws`.
pub(crate) fn metadata_key(key: &str) -> Result<(), MetricsError> {
    text(key, "metadata key", MAX_NAME_BYTES)?;
    if key.chars().any(char::is_control) {
        return Err(MetricsError::InvalidCharacters { what: "metadata key" });
    }
    Ok(())
}

/// A metric value: finite.
pub(crate) fn value(metric: &str, value: f64) -> Result<(), MetricsError> {
    if value.is_finite() { Ok(()) } else { Err(MetricsError::NotFinite { metric: metric.to_owned() }) }
}

/// A namespace: 1 to 255 characters from letters, digits and `. - _ / # :`
/// (and spaces inside).
pub(crate) fn namespace(namespace: &str) -> Result<(), MetricsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
    let ok = !namespace.trim().is_empty()
        && namespace.len() <= MAX_NAME_BYTES
        && namespace.chars().all(allowed)
        && !namespace.starts_with(':');
    if ok { Ok(()) } else { Err(MetricsError::InvalidNamespace) }
}

fn text(value: &str, what: &'static str, max: usize) -> Result<(), MetricsError> {
    if value.trim().is_empty() {
        return Err(MetricsError::EmptyName { what });
    }
    if value.len() > max {
        return Err(MetricsError::TooLong { what, len: value.len(), max });
    }
    Ok(())
}

fn printable_ascii(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cloudwatch_rules() {
        assert!(metric_name("Orders.Placed/v2").is_ok());
        assert_eq!(metric_name(" "), Err(MetricsError::EmptyName { what: "metric name" }));
        assert!(matches!(metric_name(&"m".repeat(256)), Err(MetricsError::TooLong { len: 256, .. })));
        assert!(metric_name(&"m".repeat(255)).is_ok());
        assert!(metric_name("a\nb").is_err());
        assert!(dimension_name(":reserved").is_err());
        assert!(dimension_name("région").is_err());
        assert!(dimension_value(&"v".repeat(1024)).is_ok());
        assert!(dimension_value(&"v".repeat(1025)).is_err());
        assert!(dimension_value("").is_err());
        assert!(value("m", f64::NAN).is_err());
        assert!(value("m", f64::NEG_INFINITY).is_err());
        assert!(value("m", -0.5).is_ok());
    }

    #[test]
    fn namespaces_follow_cloudwatch_rules() {
        for ok in ["Orders", "my-app/prod", "A_B.c#1:x"] {
            assert!(namespace(ok).is_ok(), "{ok}");
        }
        for bad in ["", "  ", "AWS\u{e9}", "a{b}", ":x"] {
            assert!(namespace(bad).is_err(), "{bad}");
        }
        assert!(namespace(&"n".repeat(256)).is_err());
    }
}

//! The problems found in an ASL definition, each at its JSON path.

use std::fmt;

/// One problem in a definition, at its JSON path (`$.States.BookHotel.Next`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AslIssue {
    /// Where, as a JSON path.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AslError {
    /// The problems, in document order as far as possible.
    pub issues: Vec<AslIssue>,
}

impl AslError {
    /// Whether some issue is at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.issues.iter().any(|i| i.path == path)
    }
}

impl fmt::Display for AslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid saga definition: ")?;
        for (n, issue) in self.issues.iter().enumerate() {
            if n > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", issue.path, issue.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AslError {}

/// `SagaDefinitionError` (500): an operator's mistake, only logged.
impl crate::IntoError for AslError {
    fn into_error(self) -> crate::Error {
        crate::Error::internal(self).with_code("SagaDefinitionError")
    }
}

crate::error::from::own_error!(AslError);

impl Issues {
    /// `Ok(value)` when nothing was found, else every issue.
    pub(super) fn or<T>(self, value: impl FnOnce() -> T) -> Result<T, AslError> {
        if self.0.is_empty() { Ok(value()) } else { Err(AslError { issues: self.0 }) }
    }
}

/// The issues collected while reading a definition.
#[derive(Default, Clone)]
pub(super) struct Issues(pub(super) Vec<AslIssue>);

impl Issues {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(AslIssue { path: path.into(), message: message.into() });
    }
}

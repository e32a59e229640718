//! The error of a flag document that Powertools' schema validator would
//! refuse, or of a flag value that does not fit the type asked for.

use std::fmt;

/// A feature flag error: what is wrong and where, by flag, rule and
/// condition (its position in the rule's `conditions`, from 0).
///
/// A document is checked once, when it is loaded: an invalid one is this
/// error, never a document with some flags silently defaulted.
///
/// ```
/// use halo::feature_flags::FlagDocument;
///
/// let err = FlagDocument::from_json(
///     r#"{"beta": {"default": false, "rules": {"staff": {"when_match": true,
///         "conditions": [{"action": "EQUALS", "key": "team", "value": null}]}}}}"#,
/// )
/// .unwrap_err();
/// assert_eq!((err.flag(), err.rule(), err.condition()), (Some("beta"), Some("staff"), Some(0)));
/// assert_eq!(err.to_string(), r#"flag "beta", rule "staff", conditions[0]: 'value' must not be null"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagsError {
    flag: Option<String>,
    rule: Option<String>,
    condition: Option<usize>,
    message: String,
}

impl FlagsError {
    /// An error about the whole document.
    pub(crate) fn document(message: impl Into<String>) -> FlagsError {
        FlagsError { flag: None, rule: None, condition: None, message: message.into() }
    }

    /// An error about one flag.
    pub(crate) fn of_flag(flag: &str, message: impl Into<String>) -> FlagsError {
        FlagsError { flag: Some(flag.to_owned()), rule: None, condition: None, message: message.into() }
    }

    /// Names the flag.
    pub(crate) fn in_flag(mut self, flag: &str) -> FlagsError {
        self.flag = Some(flag.to_owned());
        self
    }

    /// Names the rule.
    pub(crate) fn in_rule(mut self, rule: &str) -> FlagsError {
        self.rule = Some(rule.to_owned());
        self
    }

    /// Names the condition (its index in the rule's `conditions`).
    pub(crate) fn in_condition(mut self, index: usize) -> FlagsError {
        self.condition = Some(index);
        self
    }

    /// The flag concerned, if the error is about one.
    pub fn flag(&self) -> Option<&str> {
        self.flag.as_deref()
    }

    /// The rule concerned, if the error is about one.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// The condition concerned: its index in the rule's `conditions`.
    pub fn condition(&self) -> Option<usize> {
        self.condition
    }

    /// What is wrong, without the flag, rule and condition.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FlagsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut located = false;
        let mut part = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
            let separator = if located { ", " } else { "" };
            located = true;
            write!(f, "{separator}{args}")
        };
        if let Some(flag) = &self.flag {
            part(f, format_args!("flag {flag:?}"))?;
        }
        if let Some(rule) = &self.rule {
            part(f, format_args!("rule {rule:?}"))?;
        }
        if let Some(index) = self.condition {
            part(f, format_args!("conditions[{index}]"))?;
        }
        if located {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for FlagsError {}

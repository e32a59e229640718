//! An AppConfig profile's content into a [`Parameter`]: JSON as it is,
//! YAML turned into JSON, anything else as text.

use crate::params::error::{ParamsError, ParamsErrorKind};
use crate::params::provider::{Parameter, ParameterKind};

/// AppConfig's size limit for hosted configuration data: 2 MB.
const MAX_PROFILE_BYTES: usize = 2 * 1024 * 1024;

/// The parameter `name` holding `content` of `content_type`.
pub(super) fn parameter(name: &str, content: &[u8], content_type: Option<&str>) -> Result<Parameter, ParamsError> {
    if content.len() > MAX_PROFILE_BYTES {
        return Err(ParamsError::new(
            ParamsErrorKind::TooLarge,
            format!("the profile is {} bytes, over AppConfig's {MAX_PROFILE_BYTES}-byte limit", content.len()),
        )
        .at(name));
    }
    let media = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let text = if media.contains("yaml") {
        yaml_as_json(name, content)?
    } else {
        String::from_utf8(content.to_vec())
            .map_err(|_| ParamsError::new(ParamsErrorKind::Invalid, "the profile is not UTF-8 text").at(name))?
    };
    Ok(Parameter::new(name, text, ParameterKind::String).with_size_limit(MAX_PROFILE_BYTES * 2))
}

/// A YAML document as JSON text, its mappings' keys in the document's
/// order (the parser's message names the line, not the text).
fn yaml_as_json(name: &str, content: &[u8]) -> Result<String, ParamsError> {
    let value: serde_yaml::Value = serde_yaml::from_slice(content).map_err(|e| {
        let at = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column())).unwrap_or_default();
        ParamsError::new(ParamsErrorKind::Invalid, format!("the profile is not valid YAML{at}")).at(name)
    })?;
    serde_json::to_string(&value).map_err(|_| {
        ParamsError::new(ParamsErrorKind::Invalid, "the YAML profile has keys or values JSON cannot hold").at(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_yaml_and_text_become_parameters() {
        let json = parameter("p", br#"{"a":1}"#, Some("application/json")).unwrap();
        assert_eq!(json.value(), r#"{"a":1}"#);
        let yaml = parameter("p", b"a: 1\nb: [x, y]\n", Some("application/x-yaml")).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(yaml.value()).unwrap(),
            serde_json::json!({"a": 1, "b": ["x", "y"]})
        );
        let ordered = parameter("p", b"zeta: 1\nalpha: 2\n", Some("application/x-yaml")).unwrap();
        assert_eq!(ordered.value(), r#"{"zeta":1,"alpha":2}"#, "the document's order");
        let text = parameter("p", b"hello", Some("text/plain; charset=utf-8")).unwrap();
        assert_eq!(text.value(), "hello");
    }

    #[test]
    fn bad_content_is_named_without_its_text() {
        let err = parameter("flags", b"a: [unclosed secret", Some("text/yaml")).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Invalid);
        assert!(err.to_string().starts_with("flags: the profile is not valid YAML"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = parameter("p", &[0xff, 0xfe], None).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Invalid);
        let err = parameter("p", &vec![b' '; MAX_PROFILE_BYTES + 1], None).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::TooLarge);
    }
}

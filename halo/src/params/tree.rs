//! Parameters under a path → a typed value.
//!
//! The path prefix is stripped from every name and the remaining segments
//! become nested maps: `/shop/prod/db/host` under `/shop/prod` is the field
//! `host` of the field `db`. A leaf deserializes as its target asks:
//!
//! - a string target gets the raw text (a `StringList` too, commas and all);
//! - a sequence target gets a `StringList`'s items, a JSON array, or else
//!   the text split on commas;
//! - any other target (numbers, booleans, structs, maps, enums with data)
//!   gets the text parsed as JSON; a plain word also names a unit enum
//!   variant.
//!
//! Errors name the parameter's full path and never hold a value: type
//! mismatches describe the kind of value only, and any other message about
//! a `SecureString` or a [`Secret`](super::Secret) is withheld.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, Expected, IntoDeserializer, Unexpected, Visitor};

use super::error::{ParamsError, ParamsErrorKind};
use super::provider::{Parameter, ParameterKind};
use super::secret::SECRET_MARKER;

/// The name a type passes to `deserialize_newtype_struct` to be handed a
/// parameter's text as it is (`visit_str`), where the order of a JSON
/// object's keys matters (a feature-flag document's rules). Other
/// deserializers call `visit_newtype_struct` as usual.
pub(crate) const RAW_TEXT_MARKER: &str = "__halo_params_RawText";

/// Deserializes the parameters found under `path` into a `T`.
pub(crate) fn from_parameters<T: DeserializeOwned>(path: &str, parameters: &[Parameter]) -> Result<T, ParamsError> {
    let prefix = path.trim_end_matches('/');
    let mut root = Node::new(if prefix.is_empty() { "/".to_owned() } else { prefix.to_owned() });
    for parameter in parameters {
        parameter.check_size()?;
        let Some(relative) = parameter.name().strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        let mut node = &mut root;
        for segment in relative.split('/').filter(|s| !s.is_empty()) {
            let child_path = format!("{}/{segment}", node.path.trim_end_matches('/'));
            node = node.children.entry(segment.to_owned()).or_insert_with(|| Node::new(child_path));
        }
        node.leaf = Some(parameter);
    }
    T::deserialize(NodeDe { node: &root }).map_err(|e| e.into_params_error(&root.path))
}

/// Deserializes one parameter's value into a `T`.
pub(crate) fn from_parameter<T: DeserializeOwned>(parameter: &Parameter) -> Result<T, ParamsError> {
    parameter.check_size()?;
    T::deserialize(LeafDe::of(parameter)).map_err(|e| e.into_params_error(parameter.name()))
}

struct Node<'a> {
    path: String,
    leaf: Option<&'a Parameter>,
    children: BTreeMap<String, Node<'a>>,
}

impl<'a> Node<'a> {
    fn new(path: String) -> Node<'a> {
        Node { path, leaf: None, children: BTreeMap::new() }
    }
}

/// The deserializer's error: a value-free message, and where.
#[derive(Debug)]
pub(crate) struct DeError {
    message: String,
    /// The message is ours and holds no value.
    value_free: bool,
    path: Option<String>,
    missing_field: Option<&'static str>,
}

impl DeError {
    fn ours(message: String) -> DeError {
        DeError { message, value_free: true, path: None, missing_field: None }
    }

    /// Names the parameter, if nothing deeper did.
    fn at(mut self, path: &str) -> DeError {
        if self.path.is_none() {
            self.path = Some(path.to_owned());
        }
        self
    }

    /// Drops a message that may carry a secret value.
    fn redacted(mut self) -> DeError {
        if !self.value_free {
            self.message = "the value does not fit the expected type (details withheld: the value is secret)".into();
            self.value_free = true;
        }
        self
    }

    /// Errors of a map node: a missing field is named as its full path.
    fn in_map(mut self, path: &str) -> DeError {
        if let (None, Some(field)) = (&self.path, self.missing_field) {
            self.path = Some(format!("{}/{field}", path.trim_end_matches('/')));
            return self;
        }
        self.at(path)
    }

    fn into_params_error(self, root: &str) -> ParamsError {
        let kind = if self.missing_field.is_some() { ParamsErrorKind::Missing } else { ParamsErrorKind::Invalid };
        ParamsError::new(kind, self.message).at(self.path.unwrap_or_else(|| root.to_owned()))
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// A description of the kind of an unexpected value, without the value.
fn kind_of(unexpected: Unexpected<'_>) -> &'static str {
    match unexpected {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a number",
        Unexpected::Char(_) => "a character",
        Unexpected::Str(_) | Unexpected::Bytes(_) => "a string",
        Unexpected::Unit => "null",
        Unexpected::Option => "an optional value",
        Unexpected::NewtypeStruct | Unexpected::NewtypeVariant => "a wrapped value",
        Unexpected::Seq => "a list",
        Unexpected::Map => "a map",
        Unexpected::Enum | Unexpected::UnitVariant | Unexpected::TupleVariant | Unexpected::StructVariant => {
            "an enum variant"
        }
        Unexpected::Other(_) => "an unexpected value",
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError { message: msg.to_string(), value_free: false, path: None, missing_field: None }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> DeError {
        DeError::ours(format!("invalid type: found {}, expected {expected}", kind_of(unexpected)))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> DeError {
        DeError::ours(format!(
            "invalid value: {} out of range or not allowed, expected {expected}",
            kind_of(unexpected)
        ))
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> DeError {
        DeError::ours(format!("invalid length {len}, expected {expected}"))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> DeError {
        DeError::ours(format!("unknown variant, expected one of: {}", expected.join(", ")))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DeError {
        DeError::ours(format!("unknown parameter `{field}`, expected one of: {}", expected.join(", ")))
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError {
            message: "no parameter for this required field".into(),
            value_free: true,
            path: None,
            missing_field: Some(field),
        }
    }

    fn duplicate_field(field: &'static str) -> DeError {
        DeError::ours(format!("duplicate field `{field}`"))
    }
}

/// Deserializes a node of the path tree: a map of its children, or its own
/// value when it is a leaf.
#[derive(Clone, Copy)]
struct NodeDe<'n, 'a> {
    node: &'n Node<'a>,
}

impl<'n, 'a> NodeDe<'n, 'a> {
    fn visit_children<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let children = Children { entries: self.node.children.iter(), next: None };
        visitor.visit_map(children).map_err(|e| e.in_map(&self.node.path))
    }

    /// Names this node on an error raised above its leaf (e.g. by a
    /// `Deserialize` impl after reading the text), withholding a message
    /// that could hold a `SecureString`'s value.
    fn finish<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        let secure = self.node.leaf.is_some_and(Parameter::is_secure);
        result.map_err(|err| if secure { err.redacted() } else { err }.at(&self.node.path))
    }

    fn leaf(self) -> Result<LeafDe<'n>, DeError> {
        match self.node.leaf {
            Some(parameter) => Ok(LeafDe::of(parameter)),
            None => Err(DeError::ours("expected a single value, found a path with parameters below it".into())
                .at(&self.node.path)),
        }
    }
}

macro_rules! node_to_leaf {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, DeError> {
                let result = self.leaf().and_then(|leaf| leaf.$method($($arg,)* visitor));
                self.finish(result)
            }
        )*
    };
}

impl<'de, 'n, 'a> de::Deserializer<'de> for NodeDe<'n, 'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = if self.node.children.is_empty() {
            self.leaf().and_then(|leaf| leaf.deserialize_any(visitor))
        } else {
            self.visit_children(visitor)
        };
        self.finish(result)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = if self.node.children.is_empty() {
            self.leaf().and_then(|leaf| leaf.deserialize_map(visitor))
        } else {
            self.visit_children(visitor)
        };
        self.finish(result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = if self.node.children.is_empty() && self.node.leaf.is_some() {
            self.leaf().and_then(|leaf| leaf.deserialize_struct(name, fields, visitor))
        } else {
            self.visit_children(visitor)
        };
        self.finish(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.finish(visitor.visit_some(self))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        if name == RAW_TEXT_MARKER && self.node.children.is_empty() {
            let result = self.leaf().and_then(|leaf| leaf.deserialize_newtype_struct(name, visitor));
            return self.finish(result);
        }
        let result = self.finish(visitor.visit_newtype_struct(self));
        if name == SECRET_MARKER { result.map_err(DeError::redacted) } else { result }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    node_to_leaf! {
        deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32(); deserialize_i64();
        deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32(); deserialize_u64();
        deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf(); deserialize_unit();
        deserialize_unit_struct(name: &'static str); deserialize_seq();
        deserialize_tuple(len: usize); deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
    }
}

/// The children of a node as a map. An error from a child's value, even
/// one raised by a `Deserialize` impl after reading it (a
/// `deserialize_with` check), is named after that child.
struct Children<'n, 'a> {
    entries: std::collections::btree_map::Iter<'n, String, Node<'a>>,
    next: Option<&'n Node<'a>>,
}

impl<'de, 'n, 'a> de::MapAccess<'de> for Children<'n, 'a> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, child)) => {
                self.next = Some(child);
                seed.deserialize(key.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let node = self.next.take().ok_or_else(|| DeError::ours("a value was asked for before its key".into()))?;
        let child = NodeDe { node };
        child.finish(seed.deserialize(child))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Deserializes one parameter's value.
#[derive(Clone, Copy)]
struct LeafDe<'p> {
    name: &'p str,
    value: &'p str,
    kind: ParameterKind,
}

impl<'p> LeafDe<'p> {
    fn of(parameter: &'p Parameter) -> LeafDe<'p> {
        LeafDe { name: parameter.name(), value: parameter.value(), kind: parameter.kind() }
    }

    /// Names the parameter on an error, and withholds a message that could
    /// hold a secret value.
    fn finish<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|err| {
            let err = if matches!(self.kind, ParameterKind::SecureString | ParameterKind::Binary) {
                err.redacted()
            } else {
                err
            };
            err.at(self.name)
        })
    }

    /// A binary value's bytes.
    fn bytes(&self) -> Result<Vec<u8>, DeError> {
        crate::base64::decode(self.value)
            .ok_or_else(|| DeError::ours("the binary value is not valid base64".into()).at(self.name))
    }

    /// The value as text: a binary value's bytes read as UTF-8.
    fn text(&self) -> Result<std::borrow::Cow<'p, str>, DeError> {
        if self.kind != ParameterKind::Binary {
            return Ok(std::borrow::Cow::Borrowed(self.value));
        }
        String::from_utf8(self.bytes()?).map(std::borrow::Cow::Owned).map_err(|_| {
            DeError::ours("the binary value is not UTF-8 text: read it into `Vec<u8>`".into()).at(self.name)
        })
    }

    fn json(&self) -> Result<serde_json::Value, DeError> {
        let text = self.text()?;
        serde_json::from_str(&text).map_err(|e| {
            // serde_json's message names the position only, never the text.
            DeError::ours(format!(
                "the value is not valid JSON (line {}, column {}), and the target type is not a string",
                e.line(),
                e.column()
            ))
            .at(self.name)
        })
    }

    fn split_items(&self) -> impl Iterator<Item = LeafDe<'p>> + 'p {
        let name = self.name;
        let items = if self.value.is_empty() { None } else { Some(self.value.split(',')) };
        items.into_iter().flatten().map(move |item| LeafDe { name, value: item, kind: ParameterKind::String })
    }
}

macro_rules! leaf_via_json {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, DeError> {
                let json = self.json()?;
                self.finish(JsonDe(&json).$method($($arg,)* visitor))
            }
        )*
    };
}

impl<'de, 'p> de::Deserializer<'de> for LeafDe<'p> {
    type Error = DeError;

    /// Self-describing targets (`serde_json::Value`, untagged enums): a
    /// `StringList` is a list, JSON text is its JSON value, anything else a
    /// string.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.kind {
            ParameterKind::StringList => return self.deserialize_seq(visitor),
            ParameterKind::Binary => return self.deserialize_byte_buf(visitor),
            _ => {}
        }
        match serde_json::from_str::<serde_json::Value>(self.value) {
            Ok(json) => self.finish(JsonDe(&json).deserialize_any(visitor)),
            Err(_) => self.finish(visitor.visit_str(self.value)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = self.text().and_then(|text| visitor.visit_str(&text));
        self.finish(result)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.kind == ParameterKind::Binary {
            let result = self.bytes().and_then(|bytes| visitor.visit_byte_buf(bytes));
            return self.finish(result);
        }
        self.finish(visitor.visit_bytes(self.value.as_bytes()))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.kind == ParameterKind::Binary {
            let result = self.bytes().and_then(|bytes| {
                let mut items = SeqDeserializer::new(bytes.into_iter());
                visitor.visit_seq(&mut items).and_then(|value| items.end().map(|()| value))
            });
            return self.finish(result);
        }
        if self.kind != ParameterKind::StringList && self.value.trim_start().starts_with('[') {
            let json = self.json()?;
            return self.finish(JsonDe(&json).deserialize_seq(visitor));
        }
        let mut items = SeqDeserializer::new(self.split_items());
        let result = visitor.visit_seq(&mut items).and_then(|value| items.end().map(|()| value));
        self.finish(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        if name == RAW_TEXT_MARKER {
            let result = self.text().and_then(|text| visitor.visit_str(&text));
            return self.finish(result);
        }
        let result = self.finish(visitor.visit_newtype_struct(self));
        if name == SECRET_MARKER { result.map_err(DeError::redacted) } else { result }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match serde_json::from_str::<serde_json::Value>(self.value) {
            Ok(json) => self.finish(JsonDe(&json).deserialize_enum(name, variants, visitor)),
            Err(_) => self.finish(visitor.visit_enum(self.value.into_deserializer())),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    leaf_via_json! {
        deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32(); deserialize_i64();
        deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32(); deserialize_u64();
        deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_unit();
        deserialize_unit_struct(name: &'static str); deserialize_map();
        deserialize_tuple(len: usize); deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
    }
}

impl<'de, 'p> IntoDeserializer<'de, DeError> for LeafDe<'p> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// Deserializes a parsed JSON value with [`DeError`] (serde_json's own
/// errors would quote the value).
#[derive(Clone, Copy)]
struct JsonDe<'j>(&'j serde_json::Value);

impl<'de, 'j> de::Deserializer<'de> for JsonDe<'j> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        use serde_json::Value;
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(JsonDe));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(map) => {
                let mut map = MapDeserializer::new(map.iter().map(|(k, v)| (k.as_str(), JsonDe(v))));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        let result = visitor.visit_newtype_struct(self);
        if name == SECRET_MARKER { result.map_err(DeError::redacted) } else { result }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            serde_json::Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            serde_json::Value::Object(map) if map.len() == 1 => {
                let entries = MapDeserializer::new(map.iter().map(|(k, v)| (k.as_str(), JsonDe(v))));
                visitor.visit_enum(MapAccessDeserializer::new(entries))
            }
            _ => Err(de::Error::invalid_type(Unexpected::Other("a non-enum value"), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

impl<'de, 'j> IntoDeserializer<'de, DeError> for JsonDe<'j> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Deserialize;

    use super::super::Secret;
    use super::*;

    fn p(name: &str, value: &str) -> Parameter {
        Parameter::new(name, value, ParameterKind::String)
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Db {
        host: String,
        port: u16,
        password: Secret<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Live,
        Test,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Features {
        beta: bool,
        limit: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Settings {
        db: Db,
        origins: Vec<String>,
        mode: Mode,
        features: Features,
        ratio: f64,
        tags: HashMap<String, String>,
        nickname: Option<String>,
        #[serde(default)]
        retries: u8,
        raw_json_text: String,
    }

    fn sample() -> Vec<Parameter> {
        vec![
            p("/shop/prod/db/host", "db.internal"),
            p("/shop/prod/db/port", "5432"),
            Parameter::new("/shop/prod/db/password", "hunter2", ParameterKind::SecureString),
            Parameter::new("/shop/prod/origins", "https://a.example,https://b.example", ParameterKind::StringList),
            p("/shop/prod/mode", "live"),
            p("/shop/prod/features", r#"{"beta": true, "limit": 7}"#),
            p("/shop/prod/ratio", "0.25"),
            p("/shop/prod/tags/team", "checkout"),
            p("/shop/prod/tags/tier", "1"),
            p("/shop/prod/raw_json_text", r#"{"kept": "as text"}"#),
            p("/other/ignored", "x"),
        ]
    }

    #[test]
    fn builds_a_nested_struct_with_the_prefix_stripped() {
        let s: Settings = from_parameters("/shop/prod/", &sample()).unwrap();
        assert_eq!(s.db.host, "db.internal");
        assert_eq!(s.db.port, 5432);
        assert_eq!(s.db.password.expose(), "hunter2");
        assert_eq!(s.origins, ["https://a.example", "https://b.example"]);
        assert_eq!(s.mode, Mode::Live);
        assert_eq!(s.features, Features { beta: true, limit: 7 });
        assert_eq!(s.ratio, 0.25);
        assert_eq!(s.tags["tier"], "1");
        assert_eq!(s.nickname, None);
        assert_eq!(s.retries, 0);
        assert_eq!(s.raw_json_text, r#"{"kept": "as text"}"#);
    }

    #[test]
    fn sequences_from_json_arrays_and_comma_text() {
        #[derive(Deserialize)]
        struct Lists {
            json: Vec<u32>,
            commas: Vec<u32>,
            empty: Vec<String>,
        }
        let l: Lists =
            from_parameters("/l", &[p("/l/json", "[1, 2]"), p("/l/commas", "3,4"), p("/l/empty", "")]).unwrap();
        assert_eq!((l.json, l.commas, l.empty.len()), (vec![1, 2], vec![3, 4], 0));
    }

    #[test]
    fn a_missing_field_names_its_full_path() {
        let params: Vec<Parameter> = sample().into_iter().filter(|p| p.name() != "/shop/prod/db/port").collect();
        let err = from_parameters::<Settings>("/shop/prod", &params).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Missing);
        assert_eq!(err.path(), Some("/shop/prod/db/port"), "{err}");
    }

    #[test]
    fn a_type_mismatch_names_the_path_not_the_value() {
        let mut params = sample();
        params[1] = p("/shop/prod/db/port", "not-a-port");
        let err = from_parameters::<Settings>("/shop/prod", &params).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Invalid);
        assert_eq!(err.path(), Some("/shop/prod/db/port"));
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert!(!err.to_string().contains("not-a-port"), "{err}");

        params[1] = p("/shop/prod/db/port", "70000");
        let err = from_parameters::<Settings>("/shop/prod", &params).unwrap_err();
        assert!(!err.to_string().contains("70000"), "{err}");
        assert!(err.to_string().contains("u16"), "{err}");
    }

    #[test]
    fn a_mismatch_on_a_secret_never_shows_it() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Pin {
            pin: Secret<u32>,
            url: Secret<Custom>,
        }
        #[derive(Debug)]
        struct Custom;
        impl<'de> Deserialize<'de> for Custom {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Custom, D::Error> {
                let s = String::deserialize(d)?;
                Err(de::Error::custom(format!("bad url {s}")))
            }
        }
        let secure = |n: &str, v: &str| Parameter::new(n, v, ParameterKind::SecureString);
        let err = from_parameters::<Pin>("/s", &[secure("/s/pin", "\"s3cr3t-pin\""), p("/s/url", "x")]).unwrap_err();
        assert_eq!(err.path(), Some("/s/pin"));
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        // A plain String parameter read into a Secret: a custom message is withheld too.
        let err = from_parameters::<Pin>("/s", &[p("/s/pin", "1"), p("/s/url", "s3cr3t-url")]).unwrap_err();
        assert_eq!(err.path(), Some("/s/url"));
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.to_string().contains("withheld"), "{err}");
    }

    #[test]
    fn a_check_after_reading_a_secure_string_is_named_and_withheld() {
        fn shouting<'de, D: de::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
            let s = String::deserialize(d)?;
            if s.chars().any(|c| c.is_lowercase()) {
                Err(de::Error::custom(format!("not upper-case: {s}")))
            } else {
                Ok(s)
            }
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Keys {
            nested: Inner,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            #[serde(deserialize_with = "shouting")]
            token: String,
        }
        let plain = from_parameters::<Keys>("/k", &[p("/k/nested/token", "abc")]).unwrap_err();
        assert_eq!(plain.path(), Some("/k/nested/token"));
        assert!(plain.to_string().contains("not upper-case"), "a plain value's own message is kept: {plain}");
        let secure = Parameter::new("/k/nested/token", "s3cr3t", ParameterKind::SecureString);
        let err = from_parameters::<Keys>("/k", &[secure]).unwrap_err();
        assert_eq!(err.path(), Some("/k/nested/token"));
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_path_and_a_value_at_the_same_name() {
        #[derive(Debug, Deserialize)]
        struct Outer {
            db: String,
        }
        let err = from_parameters::<Outer>("/x", &[p("/x/db/host", "h")]).unwrap_err();
        assert_eq!(err.path(), Some("/x/db"));
        assert!(err.to_string().contains("path with parameters below it"), "{err}");
        let both = from_parameters::<Outer>("/x", &[p("/x/db", "v"), p("/x/db/host", "h")]).unwrap();
        assert_eq!(both.db, "v");
    }

    #[test]
    fn single_values() {
        assert_eq!(from_parameter::<u16>(&p("/a", "80")).unwrap(), 80);
        assert_eq!(from_parameter::<String>(&p("/a", "80")).unwrap(), "80");
        assert_eq!(from_parameter::<serde_json::Value>(&p("/a", "{\"x\":1}")).unwrap()["x"], 1);
        assert_eq!(from_parameter::<serde_json::Value>(&p("/a", "plain")).unwrap(), "plain");
        let list = Parameter::new("/l", "a,b", ParameterKind::StringList);
        assert_eq!(from_parameter::<Vec<String>>(&list).unwrap(), ["a", "b"]);
        assert_eq!(from_parameter::<String>(&list).unwrap(), "a,b");
        let err = from_parameter::<bool>(&p("/flag", "yes")).unwrap_err();
        assert_eq!(err.path(), Some("/flag"));
    }
}

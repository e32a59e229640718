//! Adding `x-correlation-id` to a handler's proxy response by splicing
//! its text: one byte-level pass (the event scan's reader) finds the
//! header maps, and the header is inserted where it belongs; nothing else
//! of the response is parsed into values or written again.

use serde_json::value::RawValue;

use crate::correlation::Correlation;
use crate::event::fields::{Collect, Malformed, Value, read};
use crate::event::{EventSource, names};
use crate::json_bytes::push_json_str;

/// Adds `x-correlation-id` to a handler's proxy response (to
/// `multiValueHeaders` when that is what the response uses). A response
/// that is not a JSON object with a `statusCode` is returned unchanged,
/// and so is one whose header maps already have the header (any case).
///
/// Whether the header is there is decided on the header maps: the text
/// `x-correlation-id` may be anywhere (a body, another header's value).
pub(crate) fn with_correlation_header(response: Box<RawValue>, correlation: &Correlation) -> Box<RawValue> {
    let text = response.get();
    let top: Top = read(text);
    if !top.has_status {
        return response;
    }
    let headers = top.headers.map(|span| Map::of(text, span));
    let multi = top.multi.map(|span| Map::of(text, span));
    if [&headers, &multi].iter().any(|map| map.as_ref().is_some_and(|m| m.has_id)) {
        return response;
    }
    let headers_object = headers.as_ref().filter(|m| m.object);
    let multi_has_entries = multi.as_ref().is_some_and(|m| m.object && m.entries > 0);
    let uses_multi = (headers_object.is_none() && multi_has_entries)
        || matches!(correlation.source, EventSource::Alb { multi_value: true });
    let (key, target) = if uses_multi { ("multiValueHeaders", multi) } else { ("headers", headers) };
    // The entry is written straight into the new text.
    let entry = |out: &mut Vec<u8>| {
        push_json_str(out, names::CORRELATION_ID);
        out.push(b':');
        if uses_multi {
            out.push(b'[');
            push_json_str(out, &correlation.id);
            out.push(b']');
        } else {
            push_json_str(out, &correlation.id);
        }
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() + correlation.id.len() + 48);
    match target {
        // `{` then the entry (and a comma before the existing ones).
        Some(map) if map.object => {
            let open = map.start + 1;
            out.extend_from_slice(&bytes[..open]);
            entry(&mut out);
            if map.entries > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&bytes[open..]);
        }
        // A map that is not an object (`null`) is replaced by one.
        Some(map) => {
            out.extend_from_slice(&bytes[..map.start]);
            out.push(b'{');
            entry(&mut out);
            out.push(b'}');
            out.extend_from_slice(&bytes[map.end..]);
        }
        // No map: added last.
        None => {
            let close = text.trim_end().len() - 1;
            out.extend_from_slice(&bytes[..close]);
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":{");
            entry(&mut out);
            out.push(b'}');
            out.extend_from_slice(&bytes[close..]);
        }
    }
    match String::from_utf8(out).map(RawValue::from_string) {
        Ok(Ok(spliced)) => spliced,
        _ => response,
    }
}

/// The response's top level: whether it has `statusCode`, and where its
/// header maps are.
#[derive(Default)]
struct Top {
    has_status: bool,
    headers: Option<(usize, usize)>,
    multi: Option<(usize, usize)>,
}

impl Collect<'_> for Top {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, '_>) -> Result<bool, Malformed> {
        match key {
            b"statusCode" => self.has_status = value.present()?,
            b"headers" => self.headers = Some(value.span()?),
            b"multiValueHeaders" => self.multi = Some(value.span()?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A header map found in the response: where its value is, whether it is
/// an object, how many entries it has and whether one is the header.
struct Map {
    start: usize,
    end: usize,
    object: bool,
    entries: usize,
    has_id: bool,
}

impl Map {
    fn of(text: &str, (start, end): (usize, usize)) -> Map {
        let value = &text[start..end];
        let keys: Keys = read(value);
        Map { start, end, object: value.starts_with('{'), entries: keys.entries, has_id: keys.has_id }
    }
}

/// An object's keys: how many, and whether one is `x-correlation-id`.
#[derive(Default)]
struct Keys {
    entries: usize,
    has_id: bool,
}

impl Collect<'_> for Keys {
    fn field(&mut self, key: &[u8], _value: &mut Value<'_, '_>) -> Result<bool, Malformed> {
        self.entries += 1;
        self.has_id |= key.eq_ignore_ascii_case(names::CORRELATION_ID.as_bytes());
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value as Json, json};

    use super::*;

    fn correlation(source: EventSource) -> Correlation {
        Correlation { source, ..Correlation::new("c-9") }
    }

    fn spliced(text: &str, correlation: &Correlation) -> Json {
        let raw = RawValue::from_string(text.to_owned()).unwrap();
        serde_json::from_str(with_correlation_header(raw, correlation).get()).unwrap()
    }

    #[test]
    fn the_header_is_added_where_the_response_keeps_its_headers() {
        let v2 = correlation(EventSource::ApiGatewayV2);
        assert_eq!(spliced(r#"{"statusCode":201,"body":"x"}"#, &v2)["headers"]["x-correlation-id"], "c-9");

        let multi = r#"{"statusCode":200,"headers":null,"multiValueHeaders":{"a":["b"]}}"#;
        assert_eq!(spliced(multi, &v2)["multiValueHeaders"], json!({"a": ["b"], "x-correlation-id": ["c-9"]}));

        let own = r#"{"statusCode":200,"headers":{"X-Correlation-Id":"mine"}}"#;
        assert_eq!(spliced(own, &v2)["headers"], json!({"X-Correlation-Id": "mine"}));

        let in_multi = r#"{"statusCode":200,"headers":{},"multiValueHeaders":{"x-correlation-id":["m"]}}"#;
        assert!(spliced(in_multi, &v2)["headers"].get("x-correlation-id").is_none());

        // The text alone is not the header: it is added.
        let mention = r#"{"statusCode":200,"headers":{"access-control-expose-headers":"x-correlation-id"},"body":"\"x-correlation-id\""}"#;
        let out = spliced(mention, &v2);
        assert_eq!(out["headers"]["x-correlation-id"], "c-9");
        assert_eq!(out["headers"]["access-control-expose-headers"], "x-correlation-id");

        let not_http = RawValue::from_string(r#"["no","status"]"#.into()).unwrap();
        assert_eq!(with_correlation_header(not_http, &v2).get(), r#"["no","status"]"#);
    }

    #[test]
    fn whitespace_escapes_and_an_alb_multi_value_target_are_kept_apart() {
        let alb = correlation(EventSource::Alb { multi_value: true });
        let pretty = "{ \"statusCode\" : 200 ,\n \"headers\" : { \"a\" : \"b\" } }\n";
        let out = spliced(pretty, &alb);
        assert_eq!(out["multiValueHeaders"], json!({"x-correlation-id": ["c-9"]}));
        assert_eq!(out["headers"], json!({"a": "b"}));

        // An escaped key is still the header.
        let escaped = r#"{"statusCode":200,"headers":{"x-correlation\u002did":"mine"}}"#;
        assert_eq!(
            spliced(escaped, &correlation(EventSource::ApiGatewayV2))["headers"],
            json!({"x-correlation-id": "mine"})
        );

        let odd_id = Correlation { source: EventSource::ApiGatewayV2, ..Correlation::new("a\"b\\c\u{1}") };
        assert_eq!(
            spliced(r#"{"statusCode":200,"headers":{}}"#, &odd_id)["headers"]["x-correlation-id"],
            "a\"b\\c\u{1}"
        );
    }

    /// What the splice must give, on parsed values.
    fn model(mut response: Json, correlation: &Correlation) -> Json {
        let Some(fields) = response.as_object_mut().filter(|f| f.contains_key("statusCode")) else { return response };
        let names_it = |map: Option<&Json>| {
            map.and_then(Json::as_object)
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(names::CORRELATION_ID)))
        };
        if names_it(fields.get("headers")) || names_it(fields.get("multiValueHeaders")) {
            return response;
        }
        let headers_object = fields.get("headers").is_some_and(Json::is_object);
        let multi_has_entries =
            fields.get("multiValueHeaders").and_then(Json::as_object).is_some_and(|m| !m.is_empty());
        let uses_multi = (!headers_object && multi_has_entries)
            || matches!(correlation.source, EventSource::Alb { multi_value: true });
        let (key, value) = if uses_multi {
            ("multiValueHeaders", json!([correlation.id]))
        } else {
            ("headers", json!(correlation.id))
        };
        let map = fields.entry(key).or_insert_with(|| json!({}));
        if !map.is_object() {
            *map = json!({});
        }
        map.as_object_mut().unwrap().insert(names::CORRELATION_ID.to_owned(), value);
        response
    }

    #[test]
    fn the_splice_agrees_with_a_model_on_any_response() {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Json::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z\"\\\\\u{e9}]{0,6}".prop_map(Json::String),
            Just(Json::Null),
        ];
        let value = leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::btree_map("[a-z]{0,3}", inner, 0..4)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        });
        let header_key =
            prop_oneof!["[a-z\"-]{1,6}", Just("x-correlation-id".to_owned()), Just("X-Correlation-ID".to_owned())];
        let header_map = prop_oneof![
            prop::collection::btree_map(header_key, value.clone(), 0..3)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            value.clone(),
        ];
        let response = (
            any::<bool>(),
            prop::option::of(header_map.clone()),
            prop::option::of(header_map),
            prop::collection::btree_map("[a-z]{1,8}", value, 0..3),
        )
            .prop_map(|(status, headers, multi, rest)| {
                let mut fields: serde_json::Map<String, Json> = rest.into_iter().collect();
                if status {
                    fields.insert("statusCode".into(), json!(200));
                }
                if let Some(headers) = headers {
                    fields.insert("headers".into(), headers);
                }
                if let Some(multi) = multi {
                    fields.insert("multiValueHeaders".into(), multi);
                }
                Json::Object(fields)
            });
        let sources = prop_oneof![
            Just(EventSource::ApiGatewayV2),
            Just(EventSource::Alb { multi_value: true }),
            Just(EventSource::Alb { multi_value: false }),
        ];
        let config = ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(response in response, source in sources, pretty in any::<bool>(), id in "[ -~\u{e9}]{1,12}")| {
            let correlation = Correlation { source, ..Correlation::new(id) };
            let text = if pretty { serde_json::to_string_pretty(&response) } else { serde_json::to_string(&response) };
            let out = spliced(&text.unwrap(), &correlation);
            prop_assert_eq!(out, model(response, &correlation));
        });
    }
}

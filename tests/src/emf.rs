//! Checks an EMF line the way CloudWatch would: against the EMF JSON schema
//! (`tests/fixtures/emf/schema.json`) and the rules the schema cannot say.

use serde_json::Value;

/// CloudWatch Logs' largest event (256 KB).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Checks one EMF line (with or without its newline): one JSON object with
/// no key twice, at most 256 KB, valid against the EMF schema, and
/// following CloudWatch's extraction rules: every metric a directive names
/// has a number (or an array of at most 100 numbers) at the root, every
/// dimension a set names has a string at the root, the timestamp is epoch
/// milliseconds. Returns the parsed line.
pub fn validate_line(line: &str) -> Result<Value, String> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.len() + 1 > MAX_EVENT_BYTES {
        return Err(format!(
            "the line has {} bytes; a CloudWatch Logs event holds at most {MAX_EVENT_BYTES}",
            line.len()
        ));
    }
    if line.contains('\n') {
        return Err("the line has a newline inside".to_owned());
    }
    let value = halo::log::CapturedLines::parse_line(line)?;
    validate_schema(&schema(), &value, "$")?;
    let aws = &value["_aws"];
    let timestamp = aws["Timestamp"].as_u64().unwrap_or(0);
    // 2001-09-09 to 2286-11-20: milliseconds, not seconds.
    if !(1_000_000_000_000..10_000_000_000_000).contains(&timestamp) {
        return Err(format!("Timestamp {timestamp} is not epoch milliseconds"));
    }
    for directive in aws["CloudWatchMetrics"].as_array().into_iter().flatten() {
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            let name = metric["Name"].as_str().unwrap_or_default();
            match &value[name] {
                Value::Number(_) => {}
                Value::Array(values)
                    if !values.is_empty() && values.len() <= 100 && values.iter().all(Value::is_number) => {}
                other => {
                    return Err(format!("metric `{name}` has no number (or 1 to 100 numbers) at the root: {other}"));
                }
            }
        }
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            for key in set.as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if !value[key].is_string() {
                    return Err(format!("dimension `{key}` has no string value at the root"));
                }
            }
        }
    }
    Ok(value)
}

/// Every line of `text` through [`validate_line`]; panics naming the first
/// line that fails (a test helper).
pub fn validate_lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| validate_line(line).unwrap_or_else(|e| panic!("invalid EMF line ({e}): {line}"))).collect()
}

/// Whether a parsed log line is an EMF line (it has `_aws`).
pub fn is_emf(line: &Value) -> bool {
    line.get("_aws").is_some()
}

/// The EMF schema fixture.
pub fn schema() -> Value {
    let path = crate::workspace_root().join("tests/fixtures/emf/schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the schema fixture is JSON")
}

/// Checks `value` against `schema`, for the draft-07 keywords the EMF
/// schema uses: `type`, `required`, `properties`, `items`, `minItems`,
/// `maxItems`, `minLength`, `maxLength`, `enum`, `minimum`. An unknown
/// keyword is an error, so the schema cannot silently ask for more.
pub fn validate_schema(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let Some(rules) = schema.as_object() else { return Err(format!("{path}: the schema is not an object")) };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            "$schema" | "$comment" | "title" | "description" => {}
            "type" => {
                let ok = match rule.as_str() {
                    Some("object") => value.is_object(),
                    Some("array") => value.is_array(),
                    Some("string") => value.is_string(),
                    Some("integer") => value.is_u64() || value.is_i64(),
                    Some("number") => value.is_number(),
                    _ => return Err(format!("{path}: unsupported type {rule}")),
                };
                if !ok {
                    return Err(format!("{path}: expected {rule}, found {value}"));
                }
            }
            "required" => {
                for key in rule.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if value.get(key).is_none() {
                        return Err(format!("{path}: `{key}` is required"));
                    }
                }
            }
            "properties" => {
                for (key, sub) in rule.as_object().into_iter().flatten() {
                    if let Some(child) = value.get(key) {
                        validate_schema(sub, child, &format!("{path}.{key}"))?;
                    }
                }
            }
            "items" => {
                for (i, child) in value.as_array().into_iter().flatten().enumerate() {
                    validate_schema(rule, child, &format!("{path}[{i}]"))?;
                }
            }
            "minItems" | "maxItems" => {
                let len = value.as_array().map_or(0, Vec::len) as u64;
                let bound = rule.as_u64().unwrap_or(0);
                if (keyword == "minItems" && len < bound) || (keyword == "maxItems" && len > bound) {
                    return Err(format!("{path}: {len} items break {keyword} {bound}"));
                }
            }
            "minLength" | "maxLength" => {
                let len = value.as_str().map_or(0, |s| s.chars().count()) as u64;
                let bound = rule.as_u64().unwrap_or(0);
                if (keyword == "minLength" && len < bound) || (keyword == "maxLength" && len > bound) {
                    return Err(format!("{path}: length {len} breaks {keyword} {bound}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|allowed| allowed.contains(value)) {
                    return Err(format!("{path}: {value} is not one of {rule}"));
                }
            }
            "minimum" => {
                if value.as_f64().zip(rule.as_f64()).is_some_and(|(v, min)| v < min) {
                    return Err(format!("{path}: {value} is below {rule}"));
                }
            }
            other => return Err(format!("{path}: the validator does not know `{other}`")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["service"]],"Metrics":[{"Name":"A","Unit":"Count"},{"Name":"B","Unit":"Milliseconds","StorageResolution":1}]}]},"service":"s","A":1,"B":[1.5,2]}"#;

    #[test]
    fn a_valid_line_passes() {
        assert_eq!(validate_line(GOOD).unwrap()["A"], 1);
    }

    #[test]
    fn each_broken_rule_is_caught() {
        let broken = [
            (r#""Unit":"Count""#, r#""Unit":"Counts""#, "not one of"),
            (r#""StorageResolution":1"#, r#""StorageResolution":5"#, "not one of"),
            (r#""Timestamp":1733450000000"#, r#""Timestamp":1733450000"#, "epoch milliseconds"),
            (r#""Timestamp":1733450000000"#, r#""Timestamp":"now""#, "expected"),
            (r#","A":1"#, "", "metric `A`"),
            (r#","service":"s""#, r#","service":3"#, "dimension `service`"),
            (r#""Namespace":"N""#, r#""Namespace":"""#, "minLength"),
            (r#""_aws":{"#, r#""_awz":{"#, "`_aws` is required"),
            (r#","A":1"#, r#","A":1,"A":2"#, "twice"),
        ];
        for (from, to, expected) in broken {
            let line = GOOD.replacen(from, to, 1);
            let err = validate_line(&line).unwrap_err();
            assert!(err.contains(expected), "{to}: {err}");
        }
    }

    #[test]
    fn limits_are_caught() {
        let names: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
        let defs: Vec<String> = names.iter().map(|n| format!(r#"{{"Name":"{n}"}}"#)).collect();
        let values: Vec<String> = names.iter().map(|n| format!(r#""{n}":1"#)).collect();
        let line = format!(
            r#"{{"_aws":{{"Timestamp":1733450000000,"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[],"Metrics":[{}]}}]}},{}}}"#,
            defs.join(","),
            values.join(",")
        );
        assert!(validate_line(&line).unwrap_err().contains("maxItems 100"));
        let dims: Vec<String> = (0..31).map(|i| format!(r#""d{i}""#)).collect();
        let roots: Vec<String> = (0..31).map(|i| format!(r#""d{i}":"v""#)).collect();
        let line = format!(
            r#"{{"_aws":{{"Timestamp":1733450000000,"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[[{}]],"Metrics":[]}}]}},{}}}"#,
            dims.join(","),
            roots.join(",")
        );
        assert!(validate_line(&line).unwrap_err().contains("maxItems 30"));
        let many = vec!["1"; 101].join(",");
        let line = GOOD.replacen(r#""B":[1.5,2]"#, &format!(r#""B":[{many}]"#), 1);
        assert!(validate_line(&line).unwrap_err().contains("metric `B`"));
    }
}

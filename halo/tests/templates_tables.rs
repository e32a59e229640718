//! Every example template's table for a halo feature (the table its
//! functions name in `HALO_IDEMPOTENCY_TABLE`, `HALO_SAGA_TABLE`,
//! `HALO_BREAKER_TABLE`, `HALO_FANOUT_TABLE`, `HALO_VIEWS_TABLE` or `HALO_CACHE_TABLE`) has exactly the layout of
//! the feature's table specification: the keys, the indexes and TTL that
//! the feature's own `create_table` makes.
#![cfg(feature = "fanout")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use halo::durable::{KeyAttribute, Projection, TableSpec};
use serde_yaml::Value;

/// The variable of each feature's table and its specification.
fn specs() -> Vec<(&'static str, TableSpec)> {
    vec![
        ("HALO_IDEMPOTENCY_TABLE", halo::idempotency::table_spec()),
        ("HALO_SAGA_TABLE", halo::saga::table_spec()),
        ("HALO_BREAKER_TABLE", halo::breaker::table_spec()),
        ("HALO_FANOUT_TABLE", halo::test_support::fanout::table_spec()),
        ("HALO_VIEWS_TABLE", halo::test_support::projection::table_spec()),
        ("HALO_CACHE_TABLE", halo::test_support::cache::table_spec()),
    ]
}

fn templates() -> Vec<PathBuf> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut found = Vec::new();
    for example in std::fs::read_dir(&examples).unwrap() {
        let dir = example.unwrap().path();
        for file in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("template") && name.ends_with(".yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The logical id a `!Ref` names.
fn referenced(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str().map(str::to_owned),
        Value::Mapping(map) => map.get("Ref").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Every `(variable, value)` of every function's environment, the
/// template's `Globals` included.
fn variables(template: &Value) -> Vec<(String, Value)> {
    let mut environments = vec![&template["Globals"]["Function"]["Environment"]["Variables"]];
    if let Some(resources) = template["Resources"].as_mapping() {
        environments.extend(resources.values().map(|resource| &resource["Properties"]["Environment"]["Variables"]));
    }
    let mut found = Vec::new();
    for variables in environments.into_iter().filter_map(Value::as_mapping) {
        for (name, value) in variables {
            found.push((name.as_str().unwrap_or_default().to_owned(), value.clone()));
        }
    }
    found
}

fn key_of(definitions: &Value, element: &Value) -> KeyAttribute {
    let name = element["AttributeName"].as_str().expect("a key element names its attribute").to_owned();
    let definition = definitions
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|d| d["AttributeName"].as_str() == Some(&name))
        .unwrap_or_else(|| panic!("the key attribute `{name}` has a definition"));
    match definition["AttributeType"].as_str() {
        Some("S") => KeyAttribute::string(name),
        Some("N") => KeyAttribute::number(name),
        other => panic!("`{name}` has the key type {other:?}"),
    }
}

/// `(partition key, sort key)` of a `KeySchema`.
fn keys_of(definitions: &Value, schema: &Value) -> (KeyAttribute, Option<KeyAttribute>) {
    let elements = schema.as_sequence().expect("a KeySchema is a list");
    let with_type = |kind: &str| elements.iter().find(|e| e["KeyType"].as_str() == Some(kind));
    let partition = key_of(definitions, with_type("HASH").expect("a HASH key"));
    (partition, with_type("RANGE").map(|element| key_of(definitions, element)))
}

/// The specification a template's table resource describes.
fn spec_of(table: &Value) -> TableSpec {
    let properties = &table["Properties"];
    let definitions = &properties["AttributeDefinitions"];
    let (partition, sort) = keys_of(definitions, &properties["KeySchema"]);
    let mut spec = TableSpec::new(partition);
    if let Some(sort) = sort {
        spec = spec.sort_key(sort);
    }
    for index in properties["GlobalSecondaryIndexes"].as_sequence().into_iter().flatten() {
        let (partition_key, sort_key) = keys_of(definitions, &index["KeySchema"]);
        let projection = match index["Projection"]["ProjectionType"].as_str() {
            Some("ALL") => Projection::All,
            Some("KEYS_ONLY") => Projection::KeysOnly,
            other => panic!("an index with the projection {other:?}"),
        };
        let name = index["IndexName"].as_str().expect("an index has a name").to_owned();
        let sort_key = sort_key.expect("every index of halo has a sort key");
        spec = spec.index(name, partition_key, sort_key, projection);
    }
    let ttl = &properties["TimeToLiveSpecification"];
    if ttl["Enabled"].as_bool() == Some(true)
        && let Some(attribute) = ttl["AttributeName"].as_str()
    {
        spec = spec.ttl(attribute);
    }
    let defined: BTreeSet<&str> =
        definitions.as_sequence().into_iter().flatten().filter_map(|d| d["AttributeName"].as_str()).collect();
    let needed: BTreeSet<String> = spec.attribute_definitions().into_iter().map(|k| k.name).collect();
    assert_eq!(
        defined,
        needed.iter().map(String::as_str).collect(),
        "AttributeDefinitions lists the key attributes only"
    );
    spec
}

#[test]
fn every_feature_table_of_every_template_is_its_specification() {
    let specs = specs();
    let mut checked = BTreeSet::new();
    let templates = templates();
    assert!(templates.len() >= 8, "the examples' templates are found: {templates:?}");
    for path in templates {
        let text = std::fs::read_to_string(&path).unwrap();
        let template: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (variable, value) in variables(&template) {
            let Some((_, spec)) = specs.iter().find(|(name, _)| *name == variable) else { continue };
            let id = referenced(&value)
                .unwrap_or_else(|| panic!("{}: {variable} names a table of the template", path.display()));
            let table = &template["Resources"][id.as_str()];
            assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"), "{}: {id}", path.display());
            assert_eq!(&spec_of(table), spec, "{}: the table {id} of {variable}", path.display());
            checked.insert(variable);
        }
    }
    let every: BTreeSet<String> = specs.iter().map(|(variable, _)| (*variable).to_owned()).collect();
    assert_eq!(checked, every, "each feature's table appears in a template");
}

#[test]
fn a_table_that_differs_from_its_specification_is_caught() {
    let template: Value = serde_yaml::from_str(
        "Type: AWS::DynamoDB::Table
Properties:
  AttributeDefinitions:
    - AttributeName: saga_id
      AttributeType: S
  KeySchema:
    - AttributeName: saga_id
      KeyType: HASH
",
    )
    .unwrap();
    assert_ne!(spec_of(&template), halo::saga::table_spec(), "no index and no TTL is another layout");
    assert_eq!(spec_of(&template), TableSpec::new(KeyAttribute::string("saga_id")));
}

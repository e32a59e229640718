//! [`TableSpec`]: the layout of a feature's table, written once. Every
//! `create_table` of halo builds its table from it, and the examples'
//! templates are checked against it.

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// A string (`S`).
    String,
    /// A number (`N`).
    Number,
}

/// A key attribute: its name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyAttribute {
    /// The attribute name.
    pub name: String,
    /// Its type.
    pub kind: KeyType,
}

impl KeyAttribute {
    /// A string key attribute.
    pub fn string(name: impl Into<String>) -> KeyAttribute {
        KeyAttribute { name: name.into(), kind: KeyType::String }
    }

    /// A number key attribute.
    pub fn number(name: impl Into<String>) -> KeyAttribute {
        KeyAttribute { name: name.into(), kind: KeyType::Number }
    }
}

/// Which attributes a global secondary index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Projection {
    /// Every attribute.
    All,
    /// The table's and the index's keys only.
    KeysOnly,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Index {
    /// The index name.
    pub name: String,
    /// Its partition key.
    pub partition_key: KeyAttribute,
    /// Its sort key.
    pub sort_key: Option<KeyAttribute>,
    /// What it holds.
    pub projection: Projection,
}

/// The layout of a table: keys, global secondary indexes and the TTL
/// attribute. Tables are billed on demand.
///
/// ```
/// use halo::durable::{KeyAttribute, TableSpec};
///
/// let spec = TableSpec::new(KeyAttribute::string("id")).ttl("expiration");
/// assert_eq!(spec.attribute_definitions(), vec![KeyAttribute::string("id")]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableSpec {
    /// The partition key.
    pub partition_key: KeyAttribute,
    /// The sort key, if the key is composite.
    pub sort_key: Option<KeyAttribute>,
    /// The global secondary indexes.
    pub indexes: Vec<Index>,
    /// The epoch-seconds attribute TTL deletes items by.
    pub ttl_attribute: Option<String>,
}

impl TableSpec {
    /// A table keyed by `partition_key` alone, without index or TTL.
    pub fn new(partition_key: KeyAttribute) -> TableSpec {
        TableSpec { partition_key, sort_key: None, indexes: Vec::new(), ttl_attribute: None }
    }

    /// Adds a sort key.
    #[must_use]
    pub fn sort_key(mut self, key: KeyAttribute) -> TableSpec {
        self.sort_key = Some(key);
        self
    }

    /// Adds a global secondary index.
    #[must_use]
    pub fn index(
        mut self,
        name: impl Into<String>,
        partition_key: KeyAttribute,
        sort_key: KeyAttribute,
        projection: Projection,
    ) -> TableSpec {
        self.indexes.push(Index { name: name.into(), partition_key, sort_key: Some(sort_key), projection });
        self
    }

    /// Turns TTL on for the epoch-seconds attribute `attribute`.
    #[must_use]
    pub fn ttl(mut self, attribute: impl Into<String>) -> TableSpec {
        self.ttl_attribute = Some(attribute.into());
        self
    }

    /// Every key attribute of the table and its indexes, once each, in
    /// order of appearance (what a template's `AttributeDefinitions` lists).
    pub fn attribute_definitions(&self) -> Vec<KeyAttribute> {
        let mut keys: Vec<KeyAttribute> = Vec::new();
        let all = std::iter::once(&self.partition_key)
            .chain(&self.sort_key)
            .chain(self.indexes.iter().flat_map(|index| std::iter::once(&index.partition_key).chain(&index.sort_key)));
        for key in all {
            if !keys.iter().any(|known| known.name == key.name) {
                keys.push(key.clone());
            }
        }
        keys
    }
}

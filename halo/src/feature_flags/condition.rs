//! The condition actions on context values, with the semantics of the
//! Python operators Powertools applies (`==`, `<`, `in`, `startswith`,
//! `%`) to the values `json.loads` gives: `true == 1`, `1 == 1.0`, lists
//! compared item by item, `in` a string is a substring test, `in` an
//! object tests its keys. Where Python raises (`None < 1`, `"a" in 5`,
//! `[] % 3`), Powertools catches the error and the condition does not
//! match; here such a comparison is an `Err(Incomparable)` and the
//! condition does not match either.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

/// A Python `TypeError` (or `AttributeError`, `ValueError`): the operands
/// cannot be compared that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Incomparable;

/// A condition on one context key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContextTest {
    /// `context == value`
    Equals(Value),
    /// `context != value`
    NotEquals(Value),
    /// `context > value`
    Greater(Value),
    /// `context >= value`
    GreaterOrEqual(Value),
    /// `context < value`
    Less(Value),
    /// `context <= value`
    LessOrEqual(Value),
    /// `context.startswith(value)`
    StartsWith(Value),
    /// `context.endswith(value)`
    EndsWith(Value),
    /// `context in value` (IN, KEY_IN_VALUE)
    In(Value),
    /// `context not in value` (NOT_IN, KEY_NOT_IN_VALUE)
    NotIn(Value),
    /// `value in context`
    ValueIn(Value),
    /// `value not in context`
    ValueNotIn(Value),
    /// Every item of the context list is in the value list.
    AllIn(Vec<Value>),
    /// Some item of the context list is in the value list.
    AnyIn(Vec<Value>),
    /// No item of the context list is in the value list.
    NoneIn(Vec<Value>),
    /// `start <= context % base <= end`
    Modulo { base: u64, start: u64, end: u64 },
}

impl ContextTest {
    /// Whether the context value (present in the context) satisfies the
    /// test. Allocates nothing.
    pub(crate) fn matches(&self, context: &Value) -> bool {
        let ordered = |value: &Value, accept: fn(Ordering) -> bool| order(context, value).is_ok_and(accept);
        match self {
            ContextTest::Equals(value) => equal(context, value),
            ContextTest::NotEquals(value) => !equal(context, value),
            ContextTest::Greater(value) => ordered(value, Ordering::is_gt),
            ContextTest::GreaterOrEqual(value) => ordered(value, Ordering::is_ge),
            ContextTest::Less(value) => ordered(value, Ordering::is_lt),
            ContextTest::LessOrEqual(value) => ordered(value, Ordering::is_le),
            ContextTest::StartsWith(value) => match (context, value) {
                (Value::String(c), Value::String(v)) => c.starts_with(v.as_str()),
                _ => false,
            },
            ContextTest::EndsWith(value) => match (context, value) {
                (Value::String(c), Value::String(v)) => c.ends_with(v.as_str()),
                _ => false,
            },
            ContextTest::In(value) => contains(value, context) == Ok(true),
            ContextTest::NotIn(value) => contains(value, context) == Ok(false),
            ContextTest::ValueIn(value) => contains(context, value) == Ok(true),
            ContextTest::ValueNotIn(value) => contains(context, value) == Ok(false),
            ContextTest::AllIn(values) => {
                context.as_array().is_some_and(|items| items.iter().all(|item| in_list(values, item)))
            }
            ContextTest::AnyIn(values) => {
                context.as_array().is_some_and(|items| items.iter().any(|item| in_list(values, item)))
            }
            ContextTest::NoneIn(values) => {
                context.as_array().is_some_and(|items| items.iter().all(|item| !in_list(values, item)))
            }
            ContextTest::Modulo { base, start, end } => modulo_in_range(context, *base, *start, *end),
        }
    }
}

/// A JSON number (or boolean) as Python sees it: an int or a float.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn number(value: &Value) -> Option<Num> {
    match value {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => Some(of_number(n)),
        _ => None,
    }
}

fn of_number(n: &Number) -> Num {
    if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Python's exact comparison of an int and a float (no rounding of the
/// int); `None` for NaN.
fn compare_int_float(int: i128, float: f64) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    let floor = float.floor();
    if floor >= 1e38 {
        return Some(Ordering::Less);
    }
    if floor <= -1e38 {
        return Some(Ordering::Greater);
    }
    // `floor` is an integer well inside i128's range.
    let whole = floor as i128;
    Some(match int.cmp(&whole) {
        Ordering::Equal if float > floor => Ordering::Less,
        other => other,
    })
}

fn compare_numbers(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
        (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
        (Num::Int(a), Num::Float(b)) => compare_int_float(a, b),
        (Num::Float(a), Num::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
    }
}

/// Python's `a == b` on JSON values.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return compare_numbers(x, y) == Some(Ordering::Equal);
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equal(x, y)),
        (Value::Object(x), Value::Object(y)) => objects_equal(x, y),
        _ => false,
    }
}

fn objects_equal(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.iter().all(|(key, x)| b.get(key).is_some_and(|y| equal(x, y)))
}

/// Python's ordering of `a` and `b` (`<`, `<=`, `>`, `>=`): numbers by
/// value, strings by code point, lists item by item (the first unequal
/// items decide, else the lengths); anything else is a `TypeError`.
pub(crate) fn order(a: &Value, b: &Value) -> Result<Ordering, Incomparable> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        // NaN is not JSON; were it there, Python's comparisons would all
        // be false, as `Incomparable` makes them.
        return compare_numbers(x, y).ok_or(Incomparable);
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.as_str().cmp(y.as_str())),
        (Value::Array(x), Value::Array(y)) => match x.iter().zip(y).find(|(x, y)| !equal(x, y)) {
            Some((x, y)) => order(x, y),
            None => Ok(x.len().cmp(&y.len())),
        },
        _ => Err(Incomparable),
    }
}

/// Python's `item in container`.
pub(crate) fn contains(container: &Value, item: &Value) -> Result<bool, Incomparable> {
    match (container, item) {
        // A substring test; `in <string>` needs a string on the left.
        (Value::String(text), Value::String(part)) => Ok(text.contains(part.as_str())),
        (Value::String(_), _) => Err(Incomparable),
        (Value::Array(items), _) => Ok(in_list(items, item)),
        // A key test: lists and objects are unhashable.
        (Value::Object(map), Value::String(key)) => Ok(map.contains_key(key)),
        (Value::Object(_), Value::Array(_) | Value::Object(_)) => Err(Incomparable),
        (Value::Object(_), _) => Ok(false),
        // Numbers, booleans and None are not containers.
        _ => Err(Incomparable),
    }
}

fn in_list(items: &[Value], item: &Value) -> bool {
    items.iter().any(|x| equal(x, item))
}

/// `start <= context % base <= end` with Python's `%` (an int's modulo is
/// the floor modulo, a float's keeps the sign of the divisor); anything but
/// a number or a boolean does not match.
fn modulo_in_range(context: &Value, base: u64, start: u64, end: u64) -> bool {
    let remainder = match number(context) {
        Some(Num::Int(int)) => Num::Int(int.rem_euclid(i128::from(base))),
        Some(Num::Float(float)) => Num::Float(python_float_mod(float, base as f64)),
        None => return false,
    };
    let (start, end) = (Num::Int(i128::from(start)), Num::Int(i128::from(end)));
    compare_numbers(start, remainder).is_some_and(Ordering::is_le)
        && compare_numbers(remainder, end).is_some_and(Ordering::is_le)
}

/// CPython's `float % float`.
fn python_float_mod(x: f64, base: f64) -> f64 {
    let remainder = x % base;
    if remainder != 0.0 {
        if (base < 0.0) != (remainder < 0.0) { remainder + base } else { remainder }
    } else {
        0.0_f64.copysign(base)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equality_is_pythons() {
        assert!(equal(&json!(true), &json!(1)));
        assert!(equal(&json!(1), &json!(1.0)));
        assert!(equal(&json!(false), &json!(0.0)));
        assert!(!equal(&json!("1"), &json!(1)));
        assert!(equal(&json!([1, {"a": true}]), &json!([1.0, {"a": 1}])));
        assert!(!equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(equal(&json!(null), &json!(null)));
        assert!(!equal(&json!(9007199254740993_u64), &json!(9007199254740992.0)));
    }

    #[test]
    fn ordering_is_pythons() {
        assert_eq!(order(&json!(2), &json!(1.5)), Ok(Ordering::Greater));
        assert_eq!(order(&json!(true), &json!(0)), Ok(Ordering::Greater));
        assert_eq!(order(&json!("b"), &json!("ab")), Ok(Ordering::Greater));
        assert_eq!(order(&json!([1, "a"]), &json!([1, "b", 0])), Ok(Ordering::Less));
        assert_eq!(order(&json!([1, 2]), &json!([1, 2, 3])), Ok(Ordering::Less));
        assert_eq!(order(&json!([1, "a"]), &json!([1, 2])), Err(Incomparable));
        assert_eq!(order(&json!([{"a": 1}]), &json!([{"a": 1}])), Ok(Ordering::Equal));
        assert_eq!(order(&json!(null), &json!(null)), Err(Incomparable));
        assert_eq!(order(&json!({}), &json!({})), Err(Incomparable));
        assert_eq!(order(&json!("1"), &json!(1)), Err(Incomparable));
        assert_eq!(order(&json!(-1), &json!(-0.5)), Ok(Ordering::Less));
        assert_eq!(order(&json!(-1), &json!(-1.0)), Ok(Ordering::Equal));
    }

    #[test]
    fn membership_is_pythons() {
        assert_eq!(contains(&json!("premium"), &json!("mium")), Ok(true));
        assert_eq!(contains(&json!("premium"), &json!("")), Ok(true));
        assert_eq!(contains(&json!("premium"), &json!(1)), Err(Incomparable));
        assert_eq!(contains(&json!([1, "a"]), &json!(true)), Ok(true));
        assert_eq!(contains(&json!({"a": 1}), &json!("a")), Ok(true));
        assert_eq!(contains(&json!({"a": 1}), &json!(1)), Ok(false));
        assert_eq!(contains(&json!({"a": 1}), &json!(["a"])), Err(Incomparable));
        assert_eq!(contains(&json!(5), &json!(5)), Err(Incomparable));
        assert_eq!(contains(&json!(null), &json!(5)), Err(Incomparable));
    }

    fn check(test: ContextTest, context: Value) -> bool {
        test.matches(&context)
    }

    #[test]
    fn each_action() {
        assert!(check(ContextTest::Equals(json!("gold")), json!("gold")));
        assert!(check(ContextTest::NotEquals(json!("gold")), json!(null)));
        assert!(check(ContextTest::Greater(json!(10)), json!(10.5)));
        assert!(!check(ContextTest::Greater(json!(10)), json!("11")));
        assert!(check(ContextTest::GreaterOrEqual(json!(10)), json!(10)));
        assert!(check(ContextTest::Less(json!("m")), json!("a")));
        assert!(check(ContextTest::LessOrEqual(json!([1, 2])), json!([1, 2])));
        assert!(check(ContextTest::StartsWith(json!("pre")), json!("premium")));
        assert!(!check(ContextTest::StartsWith(json!(["pre"])), json!("premium")));
        assert!(!check(ContextTest::StartsWith(json!("1")), json!(12)));
        assert!(check(ContextTest::EndsWith(json!("ium")), json!("premium")));
        assert!(check(ContextTest::In(json!(["a", "b"])), json!("a")));
        assert!(check(ContextTest::In(json!("abc")), json!("b")));
        assert!(!check(ContextTest::In(json!(5)), json!(5)));
        assert!(check(ContextTest::NotIn(json!(["a"])), json!("b")));
        // A Python error is not a match, for the negative actions too.
        assert!(!check(ContextTest::NotIn(json!("abc")), json!(1)));
        assert!(!check(ContextTest::NotIn(json!(5)), json!(1)));
        assert!(check(ContextTest::ValueIn(json!("a")), json!(["a", "b"])));
        assert!(check(ContextTest::ValueIn(json!("ell")), json!("hello")));
        assert!(check(ContextTest::ValueNotIn(json!("x")), json!({"a": 1})));
        assert!(!check(ContextTest::ValueNotIn(json!(["x"])), json!({"a": 1})));
        assert!(check(ContextTest::AllIn(vec![json!(1), json!(2)]), json!([1, 2.0])));
        assert!(check(ContextTest::AllIn(vec![json!(1)]), json!([])));
        assert!(!check(ContextTest::AllIn(vec![json!(1)]), json!(1)));
        assert!(check(ContextTest::AnyIn(vec![json!(1), json!(2)]), json!([3, 2])));
        assert!(!check(ContextTest::AnyIn(vec![json!(1)]), json!([])));
        assert!(check(ContextTest::NoneIn(vec![json!(1)]), json!([2, 3])));
        assert!(!check(ContextTest::NoneIn(vec![json!(1)]), json!("x")));
    }

    #[test]
    fn modulo_is_pythons() {
        let test = |context: Value| ContextTest::Modulo { base: 10, start: 2, end: 4 }.matches(&context);
        assert!(test(json!(13)));
        assert!(test(json!(-7)), "-7 % 10 == 3 in Python");
        assert!(!test(json!(15)));
        assert!(test(json!(12.5)));
        assert!(!test(json!(4.5)));
        assert!(test(json!(-6.5)), "-6.5 % 10 == 3.5 in Python");
        assert!(!test(json!("13")));
        assert!(!test(json!(null)));
        assert!(!test(json!([13])));
        assert!(ContextTest::Modulo { base: 2, start: 1, end: 1 }.matches(&json!(true)));
        assert!(ContextTest::Modulo { base: u64::MAX, start: 0, end: 0 }.matches(&json!(0)));
    }
}

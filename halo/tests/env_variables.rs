//! Every environment variable halo reads is in the guide's table
//! ("Every variable halo reads", `docs/deploying.md`): the names are a
//! deployment interface, not Rust constants, so the table is where a user
//! finds them.

use std::path::Path;

/// The variables named by string literals in `halo/src`, outside comments
/// (doc examples set made-up ones) and test modules (each file is read up
/// to its first `#[cfg(test)]`).
fn variables_read() -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let before_tests = text.split("#[cfg(test)]").next().unwrap();
            let code: String =
                before_tests.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            for prefix in ["\"HALO_", "\"POWERTOOLS_", "\"OTEL_"] {
                for (at, _) in code.match_indices(prefix) {
                    let rest = &code[at + 1..];
                    let end = rest.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap();
                    // A whole literal is a name; a message starting with one is not.
                    if rest[end..].starts_with('"') {
                        names.push(rest[..end].to_owned());
                    }
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_variable_read_is_in_the_guides_table() {
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploying.md")).unwrap();
    let table = guide.split("### Every variable halo reads").nth(1).expect("the guide has the table");
    let names = variables_read();
    assert!(names.len() >= 25, "the scan finds halo's variables: {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            let shown =
                if name.as_str() == "HALO_PARAM_" { "`HALO_PARAM_<NAME>`".to_owned() } else { format!("`{name}`") };
            !table.contains(&shown)
        })
        .collect();
    assert!(missing.is_empty(), "variables read by halo but missing from the guide's table: {missing:?}");
}

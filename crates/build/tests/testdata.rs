//! BuildKit's own parser and shell-lexer test files (tests/data, see its README.md), run against
//! this crate: every file, with a count of what passes and the reason of each failure.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The test data kept in the repository; it must be there, in a clean clone as here.
fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    assert!(
        dir.join("README.md").is_file(),
        "BuildKit's Dockerfile test data is missing: expected it in {} (a copy of \
         shared/testdata/dockerfile)",
        dir.display()
    );
    dir
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The names of the directories in `dir`, sorted.
fn cases(dir: &Path) -> Vec<String> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Prints how many of `total` passed and panics with every failure, if any.
fn report(what: &str, total: usize, failures: &[String]) {
    println!(
        "{what}: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{what}:\n{}", failures.join("\n"));
}

#[test]
fn env_var_expansion() {
    let env: HashMap<String, String> = [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut total = 0;
    let mut failures = Vec::new();
    for (number, line) in read(&data_dir().join("envVarTest")).lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields.len(),
            3,
            "envVarTest:{}: not PLATFORM|input|expected",
            number + 1
        );
        let (platform, input, expected) = (fields[0].trim(), fields[1].trim(), fields[2].trim());
        // Windows-only lines describe a platform kist does not build for.
        if platform == "W" {
            continue;
        }
        total += 1;
        let got = kist_build::expand(input, &env);
        let ok = match (&got, expected) {
            (Err(_), "error") => true,
            (Ok(value), expected) => value == expected,
            (Err(_), _) => false,
        };
        if !ok {
            failures.push(format!(
                "envVarTest:{}: {input:?} gave {got:?}, expected {expected:?}",
                number + 1
            ));
        }
    }
    report("envVarTest", total, &failures);
}

#[test]
fn word_splitting() {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    let mut failures = Vec::new();
    for (number, line) in read(&data_dir().join("wordsTest")).lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(assignment) = line.strip_prefix("ENV ") {
            let (name, value) = assignment
                .trim_start_matches(' ')
                .split_once('=')
                .unwrap_or((assignment, ""));
            env.push((name.to_string(), value.to_string()));
            continue;
        }
        let (input, expected) = line
            .split_once('|')
            .unwrap_or_else(|| panic!("wordsTest:{}: no |", number + 1));
        let input = input.trim();
        let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
        total += 1;
        let got = match kist_build::expand_words(input, &env) {
            Ok(words) => words,
            Err(_) => vec!["error".to_string()],
        };
        if got != expected {
            failures.push(format!(
                "wordsTest:{}: {input:?} gave {got:?}, expected {expected:?}",
                number + 1
            ));
        }
    }
    report("wordsTest", total, &failures);
}

#[test]
fn testfiles_parse_as_buildkit_dumps_them() {
    let dir = data_dir().join("testfiles");
    let names = cases(&dir);
    let mut failures = Vec::new();
    for name in &names {
        let text = read(&dir.join(name).join("Dockerfile"));
        let expected = read(&dir.join(name).join("result"));
        match kist_build::parse_ast("Dockerfile", &text) {
            Ok(ast) if ast.dump() + "\n" == expected => {}
            Ok(ast) => failures.push(format!(
                "{name}: dumped\n{}\nexpected\n{expected}",
                ast.dump()
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    report("testfiles", names.len(), &failures);
}

#[test]
fn negative_testfiles_are_refused() {
    let dir = data_dir().join("testfiles-negative");
    let names = cases(&dir);
    let mut failures = Vec::new();
    for name in &names {
        let text = read(&dir.join(name).join("Dockerfile"));
        match kist_build::parse_ast("Dockerfile", &text) {
            Err(e) => println!("{name}: refused: {e}"),
            Ok(ast) => failures.push(format!("{name}: accepted as\n{}", ast.dump())),
        }
    }
    report("testfiles-negative", names.len(), &failures);
}

#[test]
fn line_numbers_span_continuations() {
    let text = read(&data_dir().join("testfile-line/Dockerfile"));
    let ast = kist_build::parse_ast("Dockerfile", &text).unwrap_or_else(|e| panic!("{e}"));
    let spans: Vec<(usize, usize)> = ast
        .nodes
        .iter()
        .map(|n| (n.start_line, n.end_line))
        .collect();
    assert_eq!(spans, [(5, 5), (11, 12), (17, 31)]);
}

/// The testfiles that BuildKit's parser accepts but its instruction layer refuses, and why: the
/// typed parse must refuse exactly these, with these errors, and type all the others.
const REFUSED_WHEN_TYPED: &[(&str, &str)] = &[
    ("flags", "Dockerfile:3: unknown flag: --user"),
    (
        "health",
        "Dockerfile:4: HEALTHCHECK requires at least one argument",
    ),
    (
        "jeztah-invalid-json-json-inside-string",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
    (
        "jeztah-invalid-json-json-inside-string-double",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
    (
        "jeztah-invalid-json-single-quotes",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
    (
        "jeztah-invalid-json-unterminated-bracket",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
    (
        "jeztah-invalid-json-unterminated-string",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
    (
        "json",
        "Dockerfile:1: no build stage in current context: CMD before the first FROM",
    ),
];

#[test]
fn testfiles_type_or_are_refused_as_buildkit_refuses_them() {
    let dir = data_dir().join("testfiles");
    let names = cases(&dir);
    let mut failures = Vec::new();
    for name in &names {
        let text = read(&dir.join(name).join("Dockerfile"));
        let expected = REFUSED_WHEN_TYPED
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| *e);
        match (kist_build::parse("Dockerfile", &text), expected) {
            (Ok(_), None) => {}
            (Err(e), Some(expected)) if e.to_string() == expected => {}
            (got, expected) => failures.push(format!(
                "{name}: got {:?}, expected {expected:?}",
                got.map(|_| "typed")
            )),
        }
    }
    report("testfiles typed", names.len(), &failures);
}

/// The repository's copy of the data against the shared one it was taken from, when that is
/// beside the repository (as on a developer's machine); a clean clone alone skips this.
#[test]
fn the_copy_matches_the_shared_data() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/dockerfile");
    if !shared.join("README.md").is_file() {
        println!(
            "no shared test data at {}: nothing to compare",
            shared.display()
        );
        return;
    }
    let mut differences = Vec::new();
    compare_trees(&shared, &data_dir(), &mut differences);
    assert!(
        differences.is_empty(),
        "tests/data differs from {}:\n{}",
        shared.display(),
        differences.join("\n")
    );
}

/// Adds to `differences` every file of `a` that `b` lacks or holds otherwise.
fn compare_trees(a: &Path, b: &Path, differences: &mut Vec<String>) {
    let entries = fs::read_dir(a).unwrap_or_else(|e| panic!("listing {}: {e}", a.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let other = b.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            compare_trees(&path, &other, differences);
        } else if fs::read(&path).ok() != fs::read(&other).ok() {
            differences.push(format!("{} differs or is missing", other.display()));
        }
    }
}

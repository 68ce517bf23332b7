//! Table-driven tests: Go's documented text/template behaviour, Docker's functions and
//! tables, and errors. Each case is (template, expected output) against one shared document.

mod docker;
mod errors;
mod go;

use serde_json::{Value, json};

use super::Template;

/// The document the cases run against: a container-like value.
fn data() -> Value {
    json!({
        "Name": "/web",
        "Pid": 42,
        "Big": 1000000,
        "F": 1.5,
        "T": true,
        "Args": ["a", "b", "c"],
        "Empty": [],
        "Labels": {"b": "2", "a": "1"},
        "Nil": null,
        "Html": "<a&b>",
        "Config": {"Env": ["A=1", "B=2"], "Cmd": ["sleep", "1000"], "Labels": {"tier": "front"}},
        "Mounts": [{"Source": "/s1", "Destination": "/d1"}, {"Source": "/s2", "Destination": "/d2"}],
        "State": {"Status": "running", "Running": true, "ExitCode": 0},
        "Nested": {"L": [1, 2.5, "x", null, true, {"k": "v"}]}
    })
}

/// Runs each case through Go's parse (no Docker preprocessing) and checks the output.
fn check(cases: &[(&str, &str)]) {
    let data = data();
    for (template, want) in cases {
        let got = Template::parse_go(template)
            .and_then(|t| t.execute(&data))
            .unwrap_or_else(|e| panic!("{template:?} failed: {e}"));
        assert_eq!(&got, want, "template {template:?}");
    }
}

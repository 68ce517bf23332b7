//! Templates that must fail, and how the one-line message reads.

use super::{Template, data};

/// Each case: the template, and a part of its error message.
fn check_fails(cases: &[(&str, &str)]) {
    let data = data();
    for (template, want) in cases {
        let err = match Template::parse_go(template).and_then(|t| t.execute(&data)) {
            Ok(out) => panic!("{template:?} should fail, printed {out:?}"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "{template:?}: {err:?} lacks {want:?}");
        assert!(
            !err.contains('\n'),
            "{template:?}: {err:?} is more than a line"
        );
    }
}

#[test]
fn parse_errors_name_the_place() {
    check_fails(&[
        ("{{.Name", "template: :1:0: unclosed action"),
        ("ab\ncd {{if .T}}x", "template: :2:3: unexpected EOF"),
        ("{{end}}", "template: :1:0: unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        (
            "{{State}}",
            r#"template: :1:2: function "State" not defined"#,
        ),
        ("{{.Name | }}", "missing value for command"),
        ("{{$nope}}", r#"undefined variable "$nope""#),
        ("{{$x = 1}}", r#"undefined variable "$x""#),
        ("{{range .Args}}{{else}}{{else}}{{end}}", "expected {{end}}"),
        (
            r#"x {{"unterminated}}"#,
            "template: :1:4: unterminated quoted string",
        ),
        ("{{`raw", "unterminated raw quoted string"),
        ("{{break}}", "{{break}} outside {{range}}"),
        (
            "{{if .T}}{{continue}}{{end}}",
            "{{continue}} outside {{range}}",
        ),
        (
            "{{with .T}}{{define \"x\"}}{{end}}{{end}}",
            "unexpected <define> in command",
        ),
        ("{{/* open", "unclosed comment"),
        ("{{/* c */ x}}", "comment ends before closing delimiter"),
        (
            "{{.Name | 3}}",
            "non executable command in pipeline stage 2",
        ),
        ("{{1.2.3}}", "bad number syntax"),
        ("{{3i}}", "complex number"),
        ("{{'ab'}}", "malformed character constant"),
        ("{{#}}", "bad character '#'"),
        ("{{.A\"x\"}}", "unexpected string \"x\" in operand"),
        (
            "{{range $a, $b, $c := .Args}}{{end}}",
            "too many declarations in range",
        ),
        (
            r#"{{define "a"}}x{{end}}{{define "a"}}y{{end}}"#,
            "multiple definition of template \"a\"",
        ),
        (
            r#"{{define "B"}}x{{end}}{{block "B" .}}y{{end}}"#,
            "multiple definition of template \"B\"",
        ),
        ("{{(.Name}}", "unexpected"),
        ("{{if}}{{end}}", "missing value for command"),
    ]);
}

#[test]
fn execution_errors_name_the_action() {
    check_fails(&[
        (
            "{{len .Nil}}",
            "template: :1:2: executing \"\" at <len .Nil>: error calling len: len of nil pointer",
        ),
        (
            "{{index .Args 5}}",
            "error calling index: index out of range: 5",
        ),
        ("{{index .Missing \"a\"}}", "index of untyped nil"),
        ("{{index .Nil}}", "index of untyped nil"),
        (
            "{{index .Labels 1}}",
            "value has type int; should be string",
        ),
        ("{{.Name.Foo}}", "can't evaluate field Foo in type string"),
        (
            "{{.Args.Foo}}",
            "can't evaluate field Foo in type []interface {}",
        ),
        ("{{.Nil.a}}", "nil pointer evaluating interface {}.a"),
        ("{{eq 1 1.0}}", "incompatible types for comparison"),
        (
            "{{eq .Args .Args}}",
            "non-comparable type [a b c]: []interface {}",
        ),
        ("{{lt true false}}", "invalid type for comparison"),
        ("{{lt \"a\" 1}}", "incompatible types for comparison"),
        ("{{ne 1}}", "wrong number of args"),
        ("{{len 3}}", "len of type int"),
        ("{{slice .Name 1 2 3}}", "cannot 3-index slice a string"),
        ("{{slice .Args 2 1}}", "invalid slice index: 2 > 1"),
        ("{{slice .Args 9}}", "index out of range: 9"),
        (r#"{{template "nope"}}"#, r#"template "nope" not defined"#),
        ("{{range .Name}}{{end}}", "range can't iterate over /web"),
        ("{{range $i, $e := 3}}{{end}}", "can't use two variables"),
        ("{{.Name 1}}", "can't give argument to non-function .Name"),
        ("{{nil}}", "nil is not a command"),
        (
            "{{printf 1}}",
            "wrong type for value; expected string; got int",
        ),
        (
            "{{upper .Pid}}",
            "wrong type for value; expected string; got int",
        ),
        ("{{call .Name}}", "call of non-function"),
        ("{{and}}", "wrong number of args for and"),
        (
            r#"{{define "R"}}{{template "R" .}}{{end}}{{template "R" .}}"#,
            "exceeded maximum template depth (100)",
        ),
        (
            "line one\n{{range .Args}}\n  {{.Nope.X}}{{end}}",
            "template: :3:4: executing \"\" at <.Nope.X>",
        ),
        (
            r#"{{define "T"}}{{len 1}}{{end}}{{template "T"}}"#,
            r#"executing "T" at <len 1>"#,
        ),
    ]);
}

#[test]
fn missing_keys_can_be_errors() {
    let t = Template::parse_go("{{.State.Nope}}")
        .unwrap()
        .missing_key(super::super::MissingKey::Error);
    let err = t.execute(&data()).unwrap_err().to_string();
    assert!(err.contains(r#"map has no entry for key "Nope""#), "{err}");
    // A key that is there but null is no error.
    let t = Template::parse_go("{{.Nil}}")
        .unwrap()
        .missing_key(super::super::MissingKey::Error);
    assert_eq!(t.execute(&data()).unwrap(), "<no value>");
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    let err = Template::parse_go(&format!("{{{{{deep}}}}}")).unwrap_err();
    assert!(err.to_string().contains("nests too deeply"), "{err}");
    let ifs = format!("{}x{}", "{{if 1}}".repeat(500), "{{end}}".repeat(500));
    assert!(Template::parse_go(&ifs).is_err());
}

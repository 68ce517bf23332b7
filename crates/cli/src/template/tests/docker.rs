//! Docker's side: its functions, its `--format` preprocessing, and the `render`
//! entry point today's callers use.

use serde_json::json;

use super::super::{Template, render};
use super::{check, data};

#[test]
fn docker_functions() {
    check(&[
        (
            "{{json .Config}}",
            r#"{"Cmd":["sleep","1000"],"Env":["A=1","B=2"],"Labels":{"tier":"front"}}"#,
        ),
        (
            "{{json .Labels}} {{json .Html}} {{json .Nested.L}} {{json .F}} {{json .Big}}",
            r#"{"a":"1","b":"2"} "<a&b>" [1,2.5,"x",null,true,{"k":"v"}] 1.5 1000000"#,
        ),
        (
            "{{json .Missing}} {{json .Nil}} {{json .Name}} {{json .Empty}} {{json 2.0}}",
            r#"null null "/web" [] 2"#,
        ),
        (
            r#"{{json "tab\tquote\" nl\n \u0001 \u2028"}}"#,
            r#""tab\tquote\" nl\n \u0001 \u2028""#,
        ),
        (
            r#"{{join .Args ","}} {{join .Config.Env " "}} {{join .Empty ","}}"#,
            "a,b,c A=1 B=2 ",
        ),
        (
            r#"{{split "a,b,c" ","}} {{split "abc" ""}} {{len (split "" ",")}}"#,
            "[a b c] [a b c] 1",
        ),
        (r#"{{join (split "a-b" "-") "+"}}"#, "a+b"),
        (
            r#"{{title "hello world"}} {{title "a-much_longer o'neil"}}"#,
            "Hello World A-Much_longer O'Neil",
        ),
        (
            r#"{{lower "ABC"}} {{upper "abc"}} {{upper .Name}}"#,
            "abc ABC /WEB",
        ),
        (r#"[{{pad "x" 1 2}}] [{{pad "" 1 2}}]"#, "[ x  ] []"),
        (
            r#"{{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "héllo" 2}}"#,
            "abc ab h",
        ),
        ("{{println .Name}}", "/web\n"),
    ]);
}

#[test]
fn docker_inspect_habits() {
    check(&[
        ("{{.Config.Env}}", "[A=1 B=2]"),
        ("{{.Labels}}", "map[a:1 b:2]"),
        (r#"{{index .Labels "a"}}"#, "1"),
        (r#"{{index .Config.Labels "tier"}}"#, "front"),
        (
            r#"{{if eq .State.Status "running"}}up{{else}}down{{end}}"#,
            "up",
        ),
        (r#"{{printf "%-10s|" .Name}}"#, "/web      |"),
        ("{{len .Args}}", "3"),
        (
            "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
            "/s1:/d1 /s2:/d2 ",
        ),
        (
            "{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}",
            "a=1 b=2 ",
        ),
        ("{{.State.Running}} {{.State.ExitCode}}", "true 0"),
    ]);
}

#[test]
fn render_keeps_todays_callers_working() {
    let v =
        json!({"Name": "/web", "State": {"Pid": 42, "Running": true}, "Config": {"Env": ["A=1"]}});
    assert_eq!(render("{{.State.Pid}}", &v).unwrap(), "42");
    assert_eq!(
        render("{{ .Name }} is {{.State.Running}}", &v).unwrap(),
        "/web is true"
    );
    assert_eq!(render("{{json .Config.Env}}", &v).unwrap(), r#"["A=1"]"#);
    assert_eq!(render("{{json .Name}}", &v).unwrap(), r#""/web""#);
    assert_eq!(
        render(r"{{.Name}}\t{{.State.Pid}}\n", &v).unwrap(),
        "/web\t42\n"
    );
    assert_eq!(render("{{.Config.Env}}", &v).unwrap(), "[A=1]");
    let err = render("{{.State.Nope}}", &v).unwrap_err().to_string();
    assert!(err.contains("Nope"), "{err}");
    assert!(render("{{.State.Pid", &v).is_err());
    assert!(render("{{State}}", &v).is_err());
}

#[test]
fn docker_format_preprocessing() {
    let v = data();
    let run = |f: &str| Template::parse(f).unwrap().execute(&v).unwrap();
    assert_eq!(run(r"  {{.Name}}\t{{.Pid}}\n "), "/web\t42\n");
    assert_eq!(
        run("json"),
        Template::parse_go("{{json .}}")
            .unwrap()
            .execute(&v)
            .unwrap()
    );
    assert_eq!(run(r"a\n  {{- .Name}}"), "a/web");
    assert_eq!(run(r#"{{printf "%s\n" .Name}}"#), "/web\n");
    assert_eq!(run(r"{{`x\ty`}}"), "x\ty");
    assert!(Template::parse("table {{.Name}}").unwrap().is_table());
    assert!(!Template::parse("{{.Name}} table").unwrap().is_table());
}

//! Docker's side: its functions, its `--format` preprocessing, tables, and the `render`
//! entry point today's callers use.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::super::{MissingKey, Template, TemplateError, render_table, resolve_table_default};

/// A template run on one document, as `inspect -f` runs it.
fn render(template: &str, v: &Value) -> Result<String, TemplateError> {
    Template::parse(template)?
        .missing_key(MissingKey::Error)
        .execute(v)
}
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
    assert_eq!(
        resolve_table_default("table", "table {{.ID}}"),
        "table {{.ID}}"
    );
    assert_eq!(
        resolve_table_default("table {{.X}}", "table {{.ID}}"),
        "table {{.X}}"
    );
}

fn headers() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        (".ID", "CONTAINER ID"),
        (".Names", "NAMES"),
        ("Image", "IMAGE"),
        ("Labels", "LABELS"),
    ])
}

fn rows() -> Vec<serde_json::Value> {
    vec![
        json!({"ID": "3f4e1a2b", "Names": "a-much-longer-name", "Image": "busybox", "Labels": {"x": "1"}}),
        json!({"ID": "9c", "Names": "web", "Image": "nginx:latest", "Labels": {}}),
    ]
}

#[test]
fn tables_align_as_docker_does() {
    // Columns at least 10 wide, padded by 3; the last column is not padded.
    let out = render_table(
        r"table {{.ID}}\t{{.Names}}\t{{.Image}}",
        &rows(),
        &headers(),
    )
    .unwrap();
    assert_eq!(
        out,
        "CONTAINER ID   NAMES                IMAGE\n\
         3f4e1a2b       a-much-longer-name   busybox\n\
         9c             web                  nginx:latest\n"
    );
    // Docker's string functions leave the column name alone; printf and pad do not.
    let out = render_table(
        r#"table {{upper .Names}}\t{{json .Labels}}\t{{printf "%.3s" .Image}}\t{{pad .ID 1 1}}|"#,
        &rows(),
        &headers(),
    )
    .unwrap();
    assert_eq!(
        out,
        "NAMES                LABELS      IMA        CONTAINER ID |\n\
         A-MUCH-LONGER-NAME   {\"x\":\"1\"}   bus        3f4e1a2b |\n\
         WEB                  {}          ngi        9c |\n"
    );
    // A field with no header name gets a blank one; no rows still prints the header.
    let out = render_table(r"table {{.Names}}\t{{.Size}}", &[], &headers()).unwrap();
    assert_eq!(out, "NAMES     \n");
}

#[test]
fn plain_formats_print_a_row_per_line() {
    let out = render_table(r"{{.ID}}\t{{.Names}}", &rows(), &headers()).unwrap();
    assert_eq!(out, "3f4e1a2b\ta-much-longer-name\n9c\tweb\n");
    let out = render_table("json", &rows()[1..], &headers()).unwrap();
    assert_eq!(
        out,
        "{\"ID\":\"9c\",\"Image\":\"nginx:latest\",\"Labels\":{},\"Names\":\"web\"}\n"
    );
    let err = render_table("table {{.Nope}}", &rows(), &headers()).unwrap_err();
    assert!(err.to_string().contains("Nope"), "{err}");
}

#[test]
fn ragged_tables_align_as_go_tabwriter_does() {
    // Rows with more or fewer cells, and an empty cell: Go aligns each run of lines that has a
    // given column as one block. (The expected text is the docker client's own output.)
    let rows = [
        json!({"Name": "a-much-longer-context-name", "Description": "x"}),
        json!({"Name": "default", "Description": "Current DOCKER_HOST based configuration"}),
        json!({"Name": "oracle", "Description": "d"}),
    ];
    let headers = HashMap::from([("Name", "NAME"), ("Description", "DESCRIPTION")]);
    let format = r#"table {{.Name}}{{if eq .Name "oracle"}}\tX{{end}}\t{{.Description}}\t\tEND{{if eq .Name "default"}}\tlast{{end}}"#;
    assert_eq!(
        render_table(format, &rows, &headers).unwrap(),
        "NAME                         DESCRIPTION                                         END\n\
         a-much-longer-context-name   x                                                   END\n\
         default                      Current DOCKER_HOST based configuration             END       last\n\
         oracle                       X                                         d                   END\n"
    );
}

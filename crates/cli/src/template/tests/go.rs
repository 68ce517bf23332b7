//! Go's text/template behaviour, case by case, as its documentation describes it (the
//! expected outputs were checked against Go's own implementation).

use super::check;

#[test]
fn text_fields_and_values() {
    check(&[
        ("plain text", "plain text"),
        ("{{.Name}}", "/web"),
        ("{{ .Name }} is {{.State.Status}}", "/web is running"),
        ("{{.Pid}} {{.Big}} {{.F}} {{.T}}", "42 1000000 1.5 true"),
        ("{{.Args}}", "[a b c]"),
        ("{{.Labels}}", "map[a:1 b:2]"),
        ("{{.Nested.L}}", "[1 2.5 x <nil> true map[k:v]]"),
        ("{{.Nested}}", "map[L:[1 2.5 x <nil> true map[k:v]]]"),
        ("{{.Empty}}", "[]"),
        // Missing keys and nil values print as Go's invalid value.
        ("{{.Missing}}", "<no value>"),
        ("{{.Nil}}", "<no value>"),
        ("{{.Missing.Deeper}}", "<no value>"),
        ("{{.Labels.missing}}", "<no value>"),
        // Field access on maps, through variables and parentheses.
        ("{{.Labels.a}} {{$.Labels.b}} {{(.Labels).a}}", "1 2 1"),
        ("{{with .Mounts}}{{(index . 1).Source}}{{end}}", "/s2"),
        (
            "{{.}}",
            "map[Args:[a b c] Big:1000000 Config:map[Cmd:[sleep 1000] Env:[A=1 B=2] Labels:map[tier:front]] Empty:[] F:1.5 Html:<a&b> Labels:map[a:1 b:2] Mounts:[map[Destination:/d1 Source:/s1] map[Destination:/d2 Source:/s2]] Name:/web Nested:map[L:[1 2.5 x <nil> true map[k:v]]] Nil:<nil> Pid:42 State:map[ExitCode:0 Running:true Status:running] T:true]",
        ),
    ]);
}

#[test]
fn constants() {
    check(&[
        (r#"{{"quoted\t\"x\""}}"#, "quoted\t\"x\""),
        ("{{`raw\\n`}}", "raw\\n"),
        (
            "{{'a'}} {{'\\n'}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-3}} {{+4}}",
            "97 10 31 15 15 5 1000 -3 4",
        ),
        (
            "{{1e6}} {{100.0}} {{0.1}} {{1e21}} {{1e-5}} {{123456789.0}} {{-0.5}} {{.5}}",
            "1e+06 100 0.1 1e+21 1e-05 1.23456789e+08 -0.5 0.5",
        ),
        ("{{true}} {{false}}", "true false"),
        (r#"{{"\u00e9\x41\101"}}"#, "éAA"),
    ]);
}

#[test]
fn trim_markers_and_comments() {
    check(&[
        ("a  {{- .Name -}}  b", "a/webb"),
        ("a\n\t {{- .Name}} b", "a/web b"),
        ("{{.Name -}}\n\n  x", "/webx"),
        ("{{-3}}", "-3"),
        ("x{{/* a comment */}}y", "xy"),
        ("x {{- /* trimmed */ -}} y", "xy"),
        ("x{{/* spans\nlines */}}y", "xy"),
    ]);
}

#[test]
fn if_else_chains() {
    check(&[
        ("{{if .T}}yes{{end}}", "yes"),
        ("{{if .Empty}}y{{else}}n{{end}}", "n"),
        ("{{if .Missing}}y{{else}}n{{end}}", "n"),
        (
            "{{if 0}}y{{else}}n{{end}} {{if 0.0}}y{{else}}n{{end}} {{if \"\"}}y{{else}}n{{end}}",
            "n n n",
        ),
        (
            r#"{{if eq .Name "x"}}1{{else if eq .Name "/web"}}2{{else}}3{{end}}"#,
            "2",
        ),
        (
            r#"{{if eq .Name "x"}}1{{else if eq .Name "y"}}2{{else}}3{{end}}"#,
            "3",
        ),
        (
            r#"{{if eq .State.Status "running"}}up{{else}}down{{end}}"#,
            "up",
        ),
        ("{{if $x := .Name}}{{$x}}{{end}}", "/web"),
        ("{{if and .T (not .Empty)}}both{{end}}", "both"),
    ]);
}

#[test]
fn with_and_else_with() {
    check(&[
        ("{{with .Labels}}{{.a}}{{end}}", "1"),
        ("{{with .Missing}}x{{else}}no{{end}}", "no"),
        ("{{with $x := .Name}}{{$x}}{{.}}{{end}}", "/web/web"),
        (
            "{{with .Missing}}a{{else with .Name}}b{{.}}{{end}}",
            "b/web",
        ),
        (
            "{{with .State}}{{.Status}} {{$.Name}}{{end}}",
            "running /web",
        ),
    ]);
}

#[test]
fn range_forms() {
    check(&[
        ("{{range .Args}}{{.}},{{end}}", "a,b,c,"),
        ("{{range .Args}}{{.}},{{else}}none{{end}}", "a,b,c,"),
        ("{{range .Empty}}x{{else}}none{{end}}", "none"),
        ("{{range .Missing}}x{{else}}none{{end}}", "none"),
        (
            "{{range $i, $a := .Args}}{{$i}}:{{$a}} {{end}}",
            "0:a 1:b 2:c ",
        ),
        (
            "{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}",
            "a=1;b=2;",
        ),
        ("{{range $v := .Labels}}{{$v}}{{end}}", "12"),
        ("{{range .Labels}}{{.}}{{end}}", "12"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{range .Mounts}}{{.Source}}{{end}}", "/s1/s2"),
        (
            "{{range .Nested.L}}{{.}},{{end}}",
            "1,2.5,x,<no value>,true,map[k:v],",
        ),
        (
            r#"{{range .Args}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}"#,
            "a",
        ),
        (
            r#"{{range .Args}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}"#,
            "ac",
        ),
        (
            "{{range .Args}}{{range $.Args}}{{break}}{{end}}{{.}}{{end}}",
            "abc",
        ),
        ("{{range .Args}}{{$.Name}}{{end}}", "/web/web/web"),
    ]);
}

#[test]
fn variables() {
    check(&[
        ("{{$x := .Name}}{{$x}}", "/web"),
        (
            r#"{{$x := "q"}}{{range .Args}}{{$x = .}}{{end}}{{$x}}"#,
            "c",
        ),
        ("{{$x := 1}}{{if .T}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"),
        ("{{$x := 1}}{{if .T}}{{$x = 2}}{{end}}{{$x}}", "2"),
        (
            "{{$}}",
            "map[Args:[a b c] Big:1000000 Config:map[Cmd:[sleep 1000] Env:[A=1 B=2] Labels:map[tier:front]] Empty:[] F:1.5 Html:<a&b> Labels:map[a:1 b:2] Mounts:[map[Destination:/d1 Source:/s1] map[Destination:/d2 Source:/s2]] Name:/web Nested:map[L:[1 2.5 x <nil> true map[k:v]]] Nil:<nil> Pid:42 State:map[ExitCode:0 Running:true Status:running] T:true]",
        ),
        ("{{$m := .Labels}}{{$m.a}}", "1"),
        ("{{$x := .Nil}}{{$x}}", "<no value>"),
    ]);
}

#[test]
fn pipelines_and_parentheses() {
    check(&[
        (r#"{{.Name | printf "%s!"}}"#, "/web!"),
        ("{{.Args | len}}", "3"),
        (r#"{{"x" | printf "%s-%s" "y"}}"#, "y-x"),
        (r#"{{printf "%s-%d" (index .Args 0) (len .Args)}}"#, "a-3"),
        (r#"{{.Name | len | printf "%d chars"}}"#, "4 chars"),
        ("{{(len .Args)}}", "3"),
        (r#"{{.Nil | print}}"#, "<nil>"),
    ]);
}

#[test]
fn comparisons() {
    check(&[
        (
            r#"{{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 1.5}}"#,
            "true true true true true true",
        ),
        (
            "{{eq .Pid 42}} {{eq .Pid 41 42}} {{lt .F 2.0}} {{gt .Big 10}}",
            "true true true true",
        ),
        (
            "{{eq .Missing nil}} {{eq .Missing .Nil}} {{ne .Name nil}}",
            "true true true",
        ),
        ("{{eq true true}} {{eq 1 1 true}}", "true true"),
        (
            "{{lt -1 9223372036854775807}} {{lt 1.5 2.5}} {{lt \"a\" \"b\"}}",
            "true true true",
        ),
    ]);
}

#[test]
fn logic() {
    check(&[
        (
            r#"{{and 1 0}} {{or 0 "x"}} {{not true}} {{and .T .Name}} {{or .Missing "dflt"}}"#,
            "0 x false /web dflt",
        ),
        (
            "{{and false (index .Args 99)}} {{or .Name (index .Args 99)}}",
            "false /web",
        ),
        ("{{and 1 2 3}} {{or 0 \"\" .Empty}}", "3 []"),
        ("{{.T | and 1}}", "true"),
    ]);
}

#[test]
fn len_index_slice() {
    check(&[
        (
            "{{len .Args}} {{len .Labels}} {{len .Name}} {{len \"héllo\"}}",
            "3 2 4 6",
        ),
        (
            r#"{{index .Args 1}} {{index .Labels "a"}} {{index .Labels "zz"}}"#,
            "b 1 <no value>",
        ),
        (
            r#"{{index .Nested.L 5 "k"}} {{index .Mounts 0 "Source"}} {{index "abc" 1}}"#,
            "v /s1 98",
        ),
        ("{{index .Args}}", "[a b c]"),
        (
            "{{slice .Args 1 2}} {{slice .Name 1 3}} {{slice .Args 1}} {{slice .Args}}",
            "[b] we [b c] [a b c]",
        ),
        ("{{slice .Args 0 1 2}} {{slice \"héllo\" 1 3}}", "[a] é"),
    ]);
}

#[test]
fn print_family() {
    check(&[
        (
            r#"{{print "a" 1 2 "b"}}|{{println "a" 1}}|{{print .Args .Labels}}"#,
            "a1 2b|a 1\n|[a b c] map[a:1 b:2]",
        ),
        (
            "{{print 1 2}} {{print \"a\" \"b\"}} {{print 1.5 true}} {{print .Nil .Nil}}",
            "1 2 ab 1.5 true <nil> <nil>",
        ),
        (r#"{{print "a" .Nil "b" .Nil .Nil}}"#, "a<nil>b<nil> <nil>"),
        ("{{println}}|{{println 1 \"x\" 2}}", "\n|1 x 2\n"),
    ]);
}

#[test]
fn printf_verbs() {
    check(&[
        (
            r#"{{printf "%s|%d|%v|%q|%5.2f|%-10s|%x|%X|%o|%b|%e|%g|%t|%c|%U|%08.3f|%+d|%%" "s" 42 "v" "q" 3.14159 "left" 255 255 8 5 1234.5678 0.000012 true 65 65 3.14159 5}}"#,
            r#"s|42|v|"q"| 3.14|left      |ff|FF|10|101|1.234568e+03|1.2e-05|true|A|U+0041|0003.142|+5|%"#,
        ),
        (r#"{{printf "%-10s|" .Name}}"#, "/web      |"),
        (
            r#"{{printf "%v %v %v %v" .Args .Labels .Nested.L .T}}"#,
            "[a b c] map[a:1 b:2] [1 2.5 x <nil> true map[k:v]] true",
        ),
        (
            r#"{{printf "%q" .Args}} {{printf "%5d|%-5d|%05d" 42 42 42}} {{printf "%.2s" "abcdef"}}"#,
            r#"["a" "b" "c"]    42|42   |00042 ab"#,
        ),
        (
            r#"{{printf "%T %T %T %T %T %T %T" .Args .Labels .Name .T .F 1 .Nil}}"#,
            "[]interface {} map[string]interface {} string bool float64 int <nil>",
        ),
        (
            r#"{{printf "%#v|%#v|%#v|%#v|%#v" .Args .Labels 1.0 "s" .Nil}}"#,
            r#"[]interface {}{"a", "b", "c"}|map[string]interface {}{"a":"1", "b":"2"}|1|"s"|<nil>"#,
        ),
        (
            r#"{{printf "%5v|%x|%q" .Args .Args .Labels}}"#,
            r#"[    a     b     c]|[61 62 63]|map["a":"1" "b":"2"]"#,
        ),
        (
            r#"{{printf "%v|%v|%v" 1.0e-7 123456789012.0 0.000123}}"#,
            "1e-07|1.23456789012e+11|0.000123",
        ),
        (
            r#"{{printf "%v %v %v %.3v %6.2v" 1e20 1e21 1.0 3.14159 2.0}}"#,
            "1e+20 1e+21 1 3.14      2",
        ),
        (
            r#"{{printf "%s %v" .Labels .Nested}}"#,
            "map[a:1 b:2] map[L:[1 2.5 x <nil> true map[k:v]]]",
        ),
        (
            r#"{{printf "%6.2f|%-8.3e|%x|% x|%#x|%q|%+q|%#q" 3.14159 1234.5 "hi" "hi" 255 "é\x00" "é" "a`b"}}"#,
            r#"  3.14|1.234e+03|6869|68 69|0xff|"é\x00"|"\u00e9"|"a`b""#,
        ),
    ]);
}

#[test]
fn printf_flags_and_numbers() {
    check(&[
        (
            r#"{{printf "%+d|% d|%+.2e|%x|%#x|%#o|%O|%#b|%b|%.3d|%.0d|%08d|%-08d|%+08d|%c|%q|%U|%#U" 5 5 12345.678 -255 255 8 8 5 5 7 0 -42 42 42 233 233 233 233}}"#,
            "+5| 5|+1.23e+04|-ff|0xff|010|0o10|0b101|101|007||-0000042|42      |+0000042|é|'é'|U+00E9|U+00E9 'é'",
        ),
        (
            r#"{{printf "%6.2f|%-8.2f|%+.1f|%08.2f|% .3f|%e|%E|%G|%.3g|%g|%g|%.0f|%.0f|%.1f" 3.14159 3.14159 2.25 -3.14159 1.0 0.0 1e-10 1e-10 1234.5678 100000.0 1000000.0 0.5 1.5 0.25}}"#,
            "  3.14|3.14    |+2.2|-0003.14| 1.000|0.000000e+00|1.000000E-10|1E-10|1.23e+03|100000|1e+06|0|2|0.2",
        ),
        (
            r#"{{printf "%t|%v|%5t|%s|%d" true false true true true}}"#,
            "true|false| true|%!s(bool=true)|%!d(bool=true)",
        ),
        (
            r#"{{printf "%s|%10s|%-10s|%.1s|%q|%x|% X|%#x" "héllo" "héllo" "héllo" "héllo" "tab\there" "hé" "hé" "hé"}}"#,
            r#"héllo|     héllo|héllo     |h|"tab\there"|68c3a9|68 C3 A9|0x68c3a9"#,
        ),
        (
            r#"{{printf "%+q|%#q|%#q|%q" "héllo\n" "raw" "a`b" "\x7f\u2028"}}"#,
            r#""h\u00e9llo\n"|`raw`|"a`b"|"\x7f\u2028""#,
        ),
        (
            r#"{{printf "%05s|%-05s|%05q|%05t|%05v" "ab" "ab" "ab" true .Args}}"#,
            r#"000ab|ab   |0"ab"|0true|[0000a 0000b 0000c]"#,
        ),
        (
            r#"{{printf "%x|%X|%#08x|%08.3f|%+08.2e|%-+6d" -1 255 255 -1.5 12.5 3}}"#,
            "-1|FF|0x000000ff|-001.500|+1.25e+01|+3    ",
        ),
        (
            r#"{{printf "%v|%v" -0.0 123456.0}} {{printf "%v" 1e-320}}"#,
            "-0|123456 1e-320",
        ),
    ]);
}

#[test]
fn printf_mistakes_print_as_go_prints_them() {
    check(&[
        (
            r#"{{printf "%d %s" 1}} {{printf "%d" "x"}} {{printf "%d" 3.0}}"#,
            "1 %!s(MISSING) %!d(string=x) %!d(float64=3)",
        ),
        (r#"{{printf "%v %d" 1}}"#, "1 %!d(MISSING)"),
        (r#"{{printf "%d" 1 2 "x"}}"#, "1%!(EXTRA int=2, string=x)"),
        (
            r#"{{printf "%!"}}|{{printf "%"}}|{{printf "%z" 1}}"#,
            "%!!(MISSING)|%!(NOVERB)|%!z(int=1)",
        ),
        (
            r#"{{printf "%[2]d %[1]s" "a" 3}}|{{printf "%*d|%-*d|%.*f" 5 1 4 2 2 3.14159}}|{{printf "%[3]d" 1}}"#,
            "3 a|    1|2   |3.14|%!d(BADINDEX)",
        ),
        (
            r#"{{printf "%v|%s|%d|%q" .Nil .Nil .Nil .Nil}}"#,
            "<nil>|%!s(<nil>)|%!d(<nil>)|%!q(<nil>)",
        ),
        (
            r#"{{printf "%d|%s" .Nested.L .Nested.L}}"#,
            "[1 %!d(float64=2.5) %!d(string=x) <nil> %!d(bool=true) map[%!d(string=k):%!d(string=v)]]|[%!s(int=1) %!s(float64=2.5) x <nil> %!s(bool=true) map[k:v]]",
        ),
    ]);
}

#[test]
fn escapers() {
    check(&[
        (
            r#"{{html .Html}} {{js "a'b\"<"}} {{urlquery "a b&c"}}"#,
            r#"&lt;a&amp;b&gt; a\'b\"\u003C a+b%26c"#,
        ),
        (
            r#"{{js "x\n\t\u0001é=&\u2028"}}"#,
            r#"x\u000A\u0009\u0001é\u003D\u0026\u2028"#,
        ),
        (r#"{{html "a\"b'c\x00"}}"#, "a&#34;b&#39;c\u{FFFD}"),
        (
            r#"{{urlquery "a/b?c=d é~_.-"}}|{{html 1 2}}|{{js .Args}}|{{urlquery "a" 1}}"#,
            "a%2Fb%3Fc%3Dd+%C3%A9~_.-|1 2|[a b c]|a1",
        ),
        (
            "{{html .Nil}}|{{.Html | html}}",
            "&lt;no value&gt;|&lt;a&amp;b&gt;",
        ),
    ]);
}

#[test]
fn named_templates() {
    check(&[
        (
            r#"{{define "T"}}[{{.}}]{{end}}{{template "T" .Name}}"#,
            "[/web]",
        ),
        (
            r#"{{template "T" .Args}}{{define "T"}}{{len .}}{{end}}"#,
            "3",
        ),
        (r#"{{define "T"}}{{$}}{{end}}{{template "T" .Pid}}"#, "42"),
        (
            r#"{{define "T"}}no dot: {{.}}{{end}}{{template "T"}}"#,
            "no dot: <no value>",
        ),
        (r#"{{block "B" .Name}}<{{.}}>{{end}}"#, "</web>"),
        // An empty definition gives way to the block's body.
        (
            r#"{{block "B" .Name}}<{{.}}>{{end}}{{define "B"}}  {{end}}"#,
            "</web>",
        ),
        (
            r#"{{define "list"}}{{range .}}{{template "item" .}}{{end}}{{end}}{{define "item"}}<{{.}}>{{end}}{{template "list" .Args}}"#,
            "<a><b><c>",
        ),
        (
            r#"{{define "R"}}{{if .}}{{len .}}{{template "R" (slice . 1)}}{{end}}{{end}}{{template "R" .Args}}"#,
            "321",
        ),
    ]);
}

//! Heredocs through the raw parser: which instructions open them, their names, file
//! descriptors, expansion and chomping, and their bodies, over the cases BuildKit's parser
//! distinguishes.

use kist_build::{Args, Heredoc, parse_ast};

const DOCKERFILE: &str = "
FROM alpine:3.6

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN \"<<NOHEREDOC\"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COMMENT
# internal comment
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF

RUN [\"<<EOF\"]
";

fn heredoc(name: &str, content: &str, expand: bool, chomp: bool) -> Heredoc {
    Heredoc {
        name: name.into(),
        fd: 0,
        expand,
        chomp,
        content: content.into(),
    }
}

#[test]
fn heredocs_as_buildkit_reads_them() {
    let ast = parse_ast("Dockerfile", DOCKERFILE).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<Vec<Heredoc>> = vec![
        vec![],                                  // FROM
        vec![],                                  // RUN ls
        vec![],                                  // USER <<INVALID: USER takes none
        vec![],                                  // INVALID, then an (unknown) instruction
        vec![heredoc("EMPTY", "", true, false)], // RUN <<EMPTY
        vec![Heredoc {
            fd: 3,
            ..heredoc("EMPTY2", "", true, false)
        }],
        vec![], // RUN "<<NOHEREDOC"
        vec![heredoc("INDENT", "\tfoo\n\tbar\n", true, false)],
        vec![heredoc("UNINDENT", "\tbaz\n\tquux\n", true, true)],
        vec![heredoc("UNINDENT2", "\tbaz\n\tquux\n", true, true)],
        vec![heredoc("NOEXPAND", "\tdon't expand $NAME\n", false, true)],
        vec![heredoc(
            "COMMENT",
            "# internal comment\necho foo bar # trailing comment\n",
            true,
            false,
        )],
        vec![heredoc("MOUNT", "echo hello\n", true, false)],
        vec![
            heredoc("X", "Y\n", true, false),
            heredoc("Y", "X\n", true, false),
        ],
        vec![heredoc("COMPLEX", "print('hello world')\n", true, false)],
        vec![heredoc("file.txt", "hello world\n", true, false)],
        vec![heredoc("eof", "echo foo\n", false, false)],
        vec![heredoc("eo'f", "echo foo\n", true, false)],
        vec![heredoc("eo'f", "echo foo\n", false, false)],
        vec![heredoc("one two", "echo bar\n", false, false)],
        vec![heredoc("$EOF", "", true, false)],
        vec![heredoc("EOF", "", true, false)],
        vec![heredoc("EOF", "", true, false)],
        vec![], // RUN ["<<EOF"]: JSON takes none
    ];
    let got: Vec<Vec<Heredoc>> = ast.nodes.iter().map(|n| n.heredocs.clone()).collect();
    assert_eq!(got.len(), expected.len());
    for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(got, expected, "instruction {i}: {}", ast.nodes[i].original);
    }
    assert_eq!(ast.nodes[3].name, "INVALID");
    assert!(matches!(&ast.nodes[3].args, Args::Words(w) if w.is_empty()));
}

#[test]
fn unterminated_heredocs_are_errors() {
    let err = parse_ast("ctx/Dockerfile", "FROM a\nCOPY <<A <<B /x\na\nA\nb\n")
        .expect_err("B is unterminated");
    assert_eq!(err.to_string(), "ctx/Dockerfile:2: unterminated heredoc B");
}

//! The parser proper: from a Dockerfile's text to its raw [`Ast`], line by line as BuildKit's
//! parser goes: directives at the top, comments and blank lines skipped, continuation lines
//! joined, each instruction split by its kind, then the bodies of its heredocs read.

use crate::arguments::node_from_line;
use crate::directives::Directives;
use crate::error::{ErrorKind, ParseError};
use crate::heredoc::{markers_in_line, read_body};
use crate::lines::{Lines, is_comment, strip_continuation, trim_newline};
use crate::node::{Args, Ast, Node, Warning};

/// Parses `text`, the Dockerfile named `file` (the name errors give).
pub fn parse_ast(file: &str, text: &str) -> Result<Ast, ParseError> {
    let mut parser = Parser {
        file,
        lines: Lines::new(text),
        directives: Directives::default(),
        warnings: Vec::new(),
    };
    let mut nodes = Vec::new();
    while let Some(node) = parser.next_node()? {
        nodes.push(node);
    }
    if nodes.is_empty() {
        return Err(ErrorKind::NoInstructions.at(file, parser.lines.number().max(1)));
    }
    Ok(Ast {
        directives: parser.directives,
        nodes,
        warnings: parser.warnings,
    })
}

struct Parser<'a> {
    file: &'a str,
    lines: Lines<'a>,
    directives: Directives,
    warnings: Vec<Warning>,
}

/// An instruction's text, its continuation lines joined.
struct Logical {
    text: String,
    start: usize,
    comments: Vec<String>,
}

impl Parser<'_> {
    fn error(&self, kind: ErrorKind, line: usize) -> ParseError {
        kind.at(self.file, line)
    }

    /// The next instruction, or `None` at the end of the file.
    fn next_node(&mut self) -> Result<Option<Node>, ParseError> {
        let Some(logical) = self.next_logical()? else {
            return Ok(None);
        };
        let at = |kind| self.error(kind, logical.start);
        let mut node = node_from_line(&logical.text, self.directives.escape).map_err(at)?;
        node.start_line = logical.start;
        node.comments = logical.comments;
        self.read_heredocs(&mut node)?;
        node.end_line = self.lines.number();
        Ok(Some(node))
    }

    /// The text of the next instruction: the comments before it collected, directives noted,
    /// and continuation lines appended as they are (minus the escape character that continues
    /// them). Comment lines and blank lines inside an instruction are skipped.
    fn next_logical(&mut self) -> Result<Option<Logical>, ParseError> {
        let mut comments = Vec::new();
        while let Some(raw) = self.lines.next() {
            let number = self.lines.number();
            let line = trim_newline(raw).trim_start();
            if self
                .directives
                .scan(line, number)
                .map_err(|k| self.error(k, number))?
            {
                continue;
            }
            if is_comment(line) {
                note_comment(&mut comments, line);
                continue;
            }
            let (first, continues) = strip_continuation(line, self.directives.escape);
            if !continues && first.is_empty() {
                continue;
            }
            let mut text = first.to_string();
            if continues {
                self.continuation(&mut text);
            }
            return Ok(Some(Logical {
                text,
                start: number,
                comments,
            }));
        }
        Ok(None)
    }

    /// Appends the lines that continue an instruction to `text`. (Directives are over by
    /// now: the instruction's first line ended them.)
    fn continuation(&mut self, text: &mut String) {
        let mut empty_line = false;
        for raw in self.lines.by_ref() {
            let line = trim_newline(raw);
            if is_comment(line) {
                continue;
            }
            if line.trim_start().is_empty() {
                empty_line = true;
                continue;
            }
            let (piece, continues) = strip_continuation(line, self.directives.escape);
            text.push_str(piece);
            if !continues {
                break;
            }
        }
        if empty_line {
            self.warnings.push(Warning {
                line: self.lines.number(),
                message: format!("Empty continuation line found in: {text}"),
            });
        }
    }

    /// Reads the bodies of the heredocs `node` opens, if its instruction takes heredocs (for
    /// `ONBUILD`, its instruction does, and keeps them).
    fn read_heredocs(&mut self, node: &mut Node) -> Result<(), ParseError> {
        let (line, start) = (node.original.clone(), node.start_line);
        match &mut node.args {
            Args::Sub(sub) => self.read_heredocs_of(sub, &line, start),
            _ => self.read_heredocs_of(node, &line, start),
        }
    }

    fn read_heredocs_of(
        &mut self,
        node: &mut Node,
        line: &str,
        start: usize,
    ) -> Result<(), ParseError> {
        if !takes_heredocs(node) || !line.contains("<<") {
            return Ok(());
        }
        // The markers are found in the whole line, as BuildKit does.
        let mut heredocs =
            markers_in_line(line).map_err(|e| self.error(ErrorKind::Heredoc(e), start))?;
        for heredoc in &mut heredocs {
            if !read_body(heredoc, &mut self.lines) {
                let name = heredoc.name.clone();
                return Err(self.error(ErrorKind::UnterminatedHeredoc(name), start));
            }
        }
        node.heredocs = heredocs;
        Ok(())
    }
}

/// Whether `node`'s instruction reads heredocs: `RUN`, `COPY` and `ADD`, in shell form.
fn takes_heredocs(node: &Node) -> bool {
    matches!(node.keyword().as_str(), "run" | "copy" | "add") && !node.json
}

/// Adds a comment line's text to `comments`; an empty comment starts them over.
fn note_comment(comments: &mut Vec<String>, line: &str) {
    let text = line.trim_start().strip_prefix('#').unwrap_or(line).trim();
    if text.is_empty() {
        comments.clear();
    } else {
        comments.push(text.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ast {
        parse_ast("Dockerfile", text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn heredocs_are_read_after_the_instruction() {
        let ast = parse("FROM a\nRUN <<EOF\necho hi\nEOF\nCOPY <<A <<B /d\n1\nA\n2\nB\nUSER x\n");
        let lines: Vec<(usize, usize)> = ast
            .nodes
            .iter()
            .map(|n| (n.start_line, n.end_line))
            .collect();
        assert_eq!(lines, [(1, 1), (2, 4), (5, 9), (10, 10)]);
        assert_eq!(ast.nodes[1].heredocs[0].content, "echo hi\n");
        let copy: Vec<&str> = ast.nodes[2]
            .heredocs
            .iter()
            .map(|h| h.content.as_str())
            .collect();
        assert_eq!(copy, ["1\n", "2\n"]);
    }

    #[test]
    fn heredocs_only_where_they_belong() {
        let ast = parse("FROM a\nRUN [\"<<EOF\"]\nUSER <<X\nRUN echo '<<Y'\n");
        assert!(ast.nodes.iter().all(|n| n.heredocs.is_empty()));
        let onbuild = parse("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n");
        let Args::Sub(sub) = &onbuild.nodes[1].args else {
            panic!("ONBUILD has an instruction");
        };
        assert_eq!(sub.heredocs[0].content, "x\n");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse_ast("Dockerfile", "FROM a\n\nRUN <<EOF\nx\n").expect_err("unterminated");
        assert_eq!(err.to_string(), "Dockerfile:3: unterminated heredoc EOF");
        let err = parse_ast("x/Dockerfile", "# escape=`\n# escape=`\n").expect_err("twice");
        assert_eq!(
            err.to_string(),
            "x/Dockerfile:2: only one escape parser directive can be used"
        );
        let err = parse_ast("Dockerfile", "FROM a\nENV\tX\n").expect_err("no value");
        assert_eq!(err.to_string(), "Dockerfile:2: ENV must have two arguments");
    }

    #[test]
    fn only_blank_continuation_lines_warn() {
        let text = "FROM a\nRUN valid \\\n  continuation\nRUN something \\\n\n  following \\\n\n  more\n\
                    RUN non-indented \\\n# a comment\n  after-comment\n\
                    RUN indented \\\n    # an indented comment\n    comment\n";
        let ast = parse(text);
        let warnings: Vec<&str> = ast.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            warnings,
            ["Empty continuation line found in: RUN something   following   more"]
        );
        assert_eq!(ast.nodes[4].original, "RUN indented     comment");
    }

    #[test]
    fn comments_and_empty_continuation_lines() {
        let ast = parse("# one\n\n# two\n# three\nFROM a\nRUN a \\\n\n  b\n");
        assert_eq!(ast.nodes[0].comments, ["one", "two", "three"]);
        assert_eq!(ast.nodes[1].original, "RUN a   b");
        assert_eq!(ast.warnings.len(), 1);
    }
}

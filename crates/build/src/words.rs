//! Splitting ENV, LABEL and ARG arguments into words at the parser's level: on blanks outside
//! quotes, with the quotes and escapes kept in the words for expansion to resolve later.

/// The words of `rest`. `"a b" c\ d` gives `"a b"` and `c\ d`; a quoted empty word is a word.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if !in_word {
            if c.is_whitespace() {
                continue;
            }
            in_word = true;
        }
        match quote {
            None if c.is_whitespace() => {
                if quoted || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                quoted = false;
                in_word = false;
                continue;
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                quoted = true;
            }
            Some(q) if c == q => quote = None,
            _ => {}
        }
        // The escape character and the one it escapes stay together (and so an escaped quote
        // neither opens nor closes anything), except inside single quotes.
        let escapes = c == escape && quote != Some('\'');
        if escapes {
            let Some(next) = chars.next() else {
                break;
            };
            word.push(c);
            word.push(next);
            continue;
        }
        word.push(c);
    }
    if in_word && (quoted || !word.is_empty()) {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(rest: &str) -> Vec<String> {
        parse_words(rest, '\\')
    }

    #[test]
    fn words_keep_their_quotes_and_escapes() {
        assert_eq!(words("foo bar"), ["foo", "bar"]);
        assert_eq!(words("foo\\ bar"), ["foo\\ bar"]);
        assert_eq!(words("a='x y' b=\"p q\" c"), ["a='x y'", "b=\"p q\"", "c"]);
        assert_eq!(words("föo bàr \"âbc xÿz\""), ["föo", "bàr", "\"âbc xÿz\""]);
        assert_eq!(words("x=\"a\\\"b\" y"), ["x=\"a\\\"b\"", "y"]);
        assert_eq!(words("'a\\'b'"), ["'a\\'b'"]);
        assert_eq!(words("\"\" x"), ["\"\"", "x"]);
        assert_eq!(words("trailing\\"), ["trailing"]);
    }
}

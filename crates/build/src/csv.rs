//! The comma-separated fields of a `--mount=` value, as a CSV line: a field in double quotes
//! may hold commas, and `""` is a quote inside one.

/// The fields of `line`; an empty line has none.
pub(crate) fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    if line.is_empty() {
        return Ok(fields);
    }
    let mut chars = line.chars().peekable();
    loop {
        let field = if chars.peek() == Some(&'"') {
            chars.next();
            quoted_field(&mut chars)?
        } else {
            let mut field = String::new();
            while let Some(c) = chars.next_if(|&c| c != ',') {
                if c == '"' {
                    return Err(format!("bare \" in non-quoted field in {line:?}"));
                }
                field.push(c);
            }
            field
        };
        fields.push(field);
        match chars.next() {
            Some(',') => {}
            None => return Ok(fields),
            Some(_) => {
                return Err(format!(
                    "extraneous or missing \" in quoted field in {line:?}"
                ));
            }
        }
    }
}

/// The rest of a field opened by `"`, through its closing quote.
fn quoted_field(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    let mut field = String::new();
    loop {
        match chars.next() {
            None => return Err("unterminated quoted field".to_string()),
            Some('"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            Some('"') => return Ok(field),
            Some(c) => field.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields() {
        assert_eq!(
            fields("type=cache,target=/x"),
            Ok(vec!["type=cache".into(), "target=/x".into()])
        );
        assert_eq!(fields("\"a,b\",c"), Ok(vec!["a,b".into(), "c".into()]));
        assert_eq!(fields("\"say \"\"hi\"\"\""), Ok(vec!["say \"hi\"".into()]));
        assert_eq!(
            fields("a,,b,"),
            Ok(vec!["a".into(), "".into(), "b".into(), "".into()])
        );
        assert_eq!(fields(""), Ok(vec![]));
        assert!(fields("a\"b").is_err());
        assert!(fields("\"ab\"c").is_err());
        assert!(fields("\"ab").is_err());
    }
}

//! The JSON (exec) form of arguments, `["executable", "arg"]`: a JSON array of strings. Text
//! that is not valid JSON is not an error but the shell form; an array of anything but strings
//! is an error.

use crate::error::ErrorKind;

/// The strings of `rest` if it is a JSON array, `None` if it is not JSON.
pub(crate) fn parse_json(rest: &str) -> Result<Option<Vec<String>>, ErrorKind> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(rest) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(ErrorKind::JsonNotStrings),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_strings() {
        assert_eq!(parse_json("[]"), Ok(Some(vec![])));
        assert_eq!(
            parse_json(" [ \"a\",\t\"b\" ] "),
            Ok(Some(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            parse_json("[\"\\u0000 \\/\"]"),
            Ok(Some(vec!["\0 /".into()]))
        );
    }

    #[test]
    fn not_json_is_the_shell_form() {
        for rest in ["echo [a]", "['a']", "[\"a\"", "[\"a\"] x", ""] {
            assert_eq!(parse_json(rest), Ok(None), "{rest}");
        }
    }

    #[test]
    fn only_strings() {
        assert_eq!(
            parse_json("[\"a\", [\"b\"]]"),
            Err(ErrorKind::JsonNotStrings)
        );
        assert_eq!(parse_json("[1]"), Err(ErrorKind::JsonNotStrings));
    }
}

//! "Did you mean FROM?": the closest known name to a mistyped one, as BuildKit suggests it
//! (an edit distance under 3).

/// The option closest to `given`, ignoring case, if one is close enough; `None` when `given`
/// is itself one of them. The suggestion is in upper case unless `given` is in lower case.
pub(crate) fn closest(given: &str, options: &[&str]) -> Option<String> {
    let wanted = given.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for option in options {
        let option_lower = option.to_lowercase();
        if option_lower == wanted {
            return None;
        }
        let distance = levenshtein(&wanted, &option_lower);
        if distance < 3 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, option));
        }
    }
    let (_, option) = best?;
    Some(if given == wanted {
        option.to_lowercase()
    } else {
        option.to_uppercase()
    })
}

/// The number of single-character insertions, deletions and substitutions from `a` to `b`.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let names = ["from", "run", "copy"];
        assert_eq!(closest("FORM", &names), Some("FROM".to_string()));
        assert_eq!(closest("cpy", &names), Some("copy".to_string()));
        assert_eq!(closest("FROM", &names), None);
        assert_eq!(closest("HEALTH", &names), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}

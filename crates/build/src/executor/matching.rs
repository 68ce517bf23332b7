//! Go's `filepath.Match`, which COPY's wildcards and `.dockerignore` follow: `*` (no `/`),
//! `?`, `[...]` classes with ranges and `^` negation, `\` escapes.

/// Whether `name` matches `pattern` as a whole; a malformed pattern matches nothing.
pub(super) fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    at(&p, &n).unwrap_or(false)
}

/// Whether `pattern` has a wildcard in it.
pub(super) fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '\\'])
}

fn at(p: &[char], n: &[char]) -> Option<bool> {
    let Some((&first, rest)) = p.split_first() else {
        return Some(n.is_empty());
    };
    match first {
        '*' => {
            for i in 0..=n.len() {
                if i > 0 && n[i - 1] == '/' {
                    break;
                }
                if at(rest, &n[i..])? {
                    return Some(true);
                }
            }
            Some(false)
        }
        '?' => match n.split_first() {
            Some((&c, tail)) if c != '/' => at(rest, tail),
            _ => Some(false),
        },
        '[' => {
            let (matched, after) = class(rest, n.first().copied()?)?;
            if matched && n[0] != '/' {
                at(after, &n[1..])
            } else {
                Some(false)
            }
        }
        '\\' => {
            let (&c, after) = rest.split_first()?;
            match n.split_first() {
                Some((&m, tail)) if m == c => at(after, tail),
                _ => Some(false),
            }
        }
        c => match n.split_first() {
            Some((&m, tail)) if m == c => at(rest, tail),
            _ => Some(false),
        },
    }
}

/// A `[...]` class (its text after `[`) against `c`: whether it matches, and the pattern after
/// `]`. `None` when the class is malformed.
fn class(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut p) = match p.first() {
        Some('^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let (&lo, rest) = p.split_first()?;
        if lo == ']' && !first {
            return Some((matched != negated, rest));
        }
        first = false;
        let (lo, rest) = unescape(lo, rest)?;
        let (hi, rest) = match rest {
            ['-', hi, tail @ ..] if *hi != ']' => unescape(*hi, tail)?,
            _ => (lo, rest),
        };
        if lo <= c && c <= hi {
            matched = true;
        }
        p = rest;
    }
}

fn unescape(c: char, rest: &[char]) -> Option<(char, &[char])> {
    if c == '\\' {
        let (&e, tail) = rest.split_first()?;
        Some((e, tail))
    } else {
        Some((c, rest))
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn go_filepath_match_cases() {
        // From Go's filepath.Match tests.
        assert!(matches("abc", "abc"));
        assert!(matches("*", "abc"));
        assert!(matches("*c", "abc"));
        assert!(!matches("a*", "ab/c"));
        assert!(matches("a*/b", "abc/b"));
        assert!(matches("a?c", "abc"));
        assert!(matches("a[b-d]c", "acc"));
        assert!(!matches("a[^b-d]c", "acc"));
        assert!(matches("a[^b-d]c", "aec"));
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "ab"));
        assert!(!matches("*.txt", "dir/a.txt"));
        assert!(!matches("[", "a"));
    }
}

//! `.dockerignore`: Docker's pattern rules. Each line a path pattern (Go's Match per path
//! element, `**` any number of elements), `!` an exception, the last matching line wins; a
//! pattern matches a path or any directory above it.

use super::matching::matches;

#[derive(Debug, Default, Clone)]
pub(super) struct Ignore {
    rules: Vec<(bool, Vec<String>)>,
}

impl Ignore {
    /// The rules of a `.dockerignore` text.
    pub fn parse(text: &str) -> Ignore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let parts: Vec<String> = pattern
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .map(String::from)
                .collect();
            if !parts.is_empty() {
                rules.push((exception, parts));
            }
        }
        Ignore { rules }
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut excluded = false;
        for (exception, pattern) in &self.rules {
            // The path itself or a directory above it.
            let hit = (1..=parts.len()).any(|n| elements(pattern, &parts[..n]));
            if hit {
                excluded = !exception;
            }
        }
        excluded
    }
}

fn elements(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => (0..=path.len()).any(|i| elements(rest, &path[i..])),
        Some((p, rest)) => match path.split_first() {
            Some((name, tail)) => matches(p, name) && elements(rest, tail),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::Ignore;

    #[test]
    fn docker_rules() {
        let ignore = Ignore::parse("# comment\n*.log\n!keep.log\n**/secret\nbuild/\n");
        assert!(ignore.excludes("a.log"));
        assert!(!ignore.excludes("keep.log"));
        assert!(!ignore.excludes("dir/a.log"));
        assert!(ignore.excludes("x/y/secret"));
        assert!(ignore.excludes("secret"));
        assert!(ignore.excludes("build/out/file"));
        assert!(!ignore.excludes("src/main.rs"));
    }
}

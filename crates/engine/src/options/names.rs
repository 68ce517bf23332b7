//! Docker's rule for the names a user gives containers and volumes.

/// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_docker_s_rule() {
        assert!(!is_valid("-x"));
        assert!(!is_valid("a"));
        assert!(!is_valid("a/b"));
        assert!(is_valid("web-1.a_b"));
    }
}

//! Docker's question before a prune removes anything: asked on stdout, answered on stdin, and
//! only `y` or `yes` is a yes. A stdin that ends without an answer (a script's, a pipe's, or
//! /dev/null) is a no, so nothing is removed by accident; `-f` skips the question.

use std::io::BufRead;

/// Asks `WARNING! {warning}` and whether to continue; true if the answer is yes.
pub fn confirmed(warning: &str) -> bool {
    out!("WARNING! {warning}\nAre you sure you want to continue? [y/N] ");
    crate::output::flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    is_yes(&answer)
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_y_or_yes_is_yes() {
        for yes in ["y\n", "Y", "yes\n", " YES \n"] {
            assert!(super::is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n\n", "no", "yep", "y y"] {
            assert!(!super::is_yes(no), "{no:?}");
        }
    }
}

//! What a mistyped command line gets: clap's errors as Docker's usage errors, one line each
//! (`kist: unknown flag: -p; see 'kist run --help'`), with exit status 125; help and the
//! version, asked for or shown for a bare `kist`, go to stdout with status 0.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Exit status of a usage error, as Docker gives for bad flags.
pub const USAGE_ERROR: i32 = 125;

/// Prints what `e` calls for and returns the exit status. `command` is kist's whole tree and
/// `args` the command line, from which the command the mistake was made in is named.
pub fn report(e: &clap::Error, command: &clap::Command, args: &[String]) -> i32 {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        crate::output::print(&with_newline(e.render().to_string()));
        return 0;
    }
    let path = command_path(command, args);
    if e.kind() == ErrorKind::MissingSubcommand {
        // `kist`, `kist image`: a group with no command after it shows its help, as Docker's.
        let help = find(command, &path).render_help();
        crate::output::print(&with_newline(help.to_string()));
        return 0;
    }
    eprintln!("kist: {}; see '{path} --help'", message(e, &path));
    USAGE_ERROR
}

/// The mistake in Docker's words.
fn message(e: &clap::Error, path: &str) -> String {
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        // Suggestions come in rising likeness: the last is the nearest.
        Some(ContextValue::Strings(v)) => v.last().cloned(),
        _ => None,
    };
    let suggestion = text(ContextKind::SuggestedSubcommand)
        .or_else(|| text(ContextKind::SuggestedArg))
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default();
    let invalid = text(ContextKind::InvalidArg).unwrap_or_default();
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let word = text(ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("unknown command: {path} {word}{suggestion}")
        }
        ErrorKind::UnknownArgument if invalid.starts_with('-') => {
            format!("unknown flag: {}{suggestion}", flag_name(&invalid))
        }
        ErrorKind::UnknownArgument => format!("'{path}' takes no argument {invalid:?}"),
        ErrorKind::MissingRequiredArgument => format!("'{path}' requires {}", required(e)),
        ErrorKind::InvalidValue if text(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) => {
            format!("flag needs an argument: {}", flag_name(&invalid))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = text(ContextKind::InvalidValue).unwrap_or_default();
            let why = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!(
                "invalid argument {value:?} for \"{}\" flag{why}",
                flag_name(&invalid)
            )
        }
        _ => first_line(e),
    }
}

/// Every argument missing, not only the first: `<CONTAINER> <NAME>`.
fn required(e: &clap::Error) -> String {
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::Strings(v)) => v.join(" "),
        Some(ContextValue::String(s)) => s.clone(),
        _ => "more arguments".into(),
    }
}

/// The command at `path` (`kist image`) in the tree.
fn find(root: &clap::Command, path: &str) -> clap::Command {
    // Built, so that its usage line names it in full (`kist image`).
    let mut current = root.clone();
    current.build();
    for word in path.split(' ').skip(1) {
        if let Some(sub) = current.find_subcommand(word) {
            current = sub.clone();
        }
    }
    current
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `--all[=<true|false>]` or `--name <NAME>` as clap shows it, less the value: `--all`.
fn flag_name(shown: &str) -> &str {
    shown.split(['[', ' ', '=']).next().unwrap_or(shown)
}

/// clap's own first line, without its `error: ` prefix.
fn first_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// The command the line names, `kist image ls`: its words, each a subcommand of the one
/// before, skipping flags and the values of the flags that take one.
fn command_path(root: &clap::Command, args: &[String]) -> String {
    let mut path = vec![root.get_name().to_string()];
    let mut current = root;
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            if takes_separate_value(root, current, word) {
                words.next();
            }
            continue;
        }
        match current.find_subcommand(word) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                current = sub;
            }
            None => break,
        }
    }
    path.join(" ")
}

/// `--root DIR` (or `-u USER`), not `--root=DIR`, `-uUSER` or a switch.
fn takes_separate_value(root: &clap::Command, current: &clap::Command, word: &str) -> bool {
    if word.contains('=') {
        return false;
    }
    let named = |a: &&clap::Arg| match word.strip_prefix("--") {
        Some(long) => a.get_long() == Some(long),
        None => word.len() == 2 && a.get_short() == word.chars().nth(1),
    };
    current
        .get_arguments()
        .chain(root.get_arguments().filter(|a| a.is_global_set()))
        .find(named)
        .is_some_and(|a| {
            a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(line: &str) -> String {
        let args: Vec<String> = line.split(' ').map(String::from).collect();
        command_path(&crate::command(), &args)
    }

    #[test]
    fn the_command_is_named_by_its_words() {
        assert_eq!(path("kist run -d busybox ls"), "kist run");
        assert_eq!(path("kist --root /x image ls --bogus"), "kist image ls");
        assert_eq!(path("kist --root=/x ps"), "kist ps");
        assert_eq!(path("kist imagess"), "kist");
        assert_eq!(path("kist volume -q"), "kist volume");
    }

    #[test]
    fn flags_are_named_without_their_values() {
        assert_eq!(flag_name("--all[=<true|false>]"), "--all");
        assert_eq!(flag_name("--name <NAME>"), "--name");
        assert_eq!(flag_name("-p"), "-p");
    }
}

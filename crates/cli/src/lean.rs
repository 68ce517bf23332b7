//! The command line parsed against one command's definitions, not the whole tree's: clap
//! builds every flag of every command before it parses (about 1,500 here, `run`'s hundred
//! four times over, in `run`, `create` and the `container` group), which cost a `kist run`
//! a millisecond of its start. For the commands that run containers or are run by scripts in
//! loops, a tree of the global flags and that one command parses the same arguments to the
//! same `Cli`; anything it does not take (help, a typo, a missing argument) goes to the whole
//! tree, which gives the answer and the messages it always gave.

use std::ffi::OsString;

use clap::{Args, Command};

use crate::commands::{container, inspect, system};
use crate::flags;

/// What adds a command's flags to it (its arguments' `augment_args`).
type Augment = fn(Command) -> Command;

/// The commands with a lean tree: each with the function that adds its flags.
const LEAN: [(&str, Augment); 13] = [
    ("run", container::RunArgs::augment_args),
    ("create", container::RunArgs::augment_args),
    ("exec", container::ExecArgs::augment_args),
    ("start", container::StartArgs::augment_args),
    ("stop", container::StopArgs::augment_args),
    ("kill", container::KillArgs::augment_args),
    ("rm", container::RmArgs::augment_args),
    ("logs", container::LogsArgs::augment_args),
    ("wait", flags::Containers::augment_args),
    ("ps", container::PsArgs::augment_args),
    ("inspect", inspect::InspectArgs::augment_args),
    ("port", container::PortArgs::augment_args),
    ("__supervise", system::SuperviseArgs::augment_args),
];

/// The global flags and the one command `args` names, when it is one of `LEAN`.
pub fn command(args: &[OsString]) -> Option<Command> {
    let name = command_name(args)?;
    let (name, augment) = LEAN.iter().find(|(n, _)| *n == name)?;
    let root = crate::Globals::augment_args(Command::new("kist"));
    Some(flags::docker_syntax(
        root.subcommand(augment(Command::new(*name))),
    ))
}

/// The first argument that is not a global flag or its value.
fn command_name(args: &[OsString]) -> Option<&str> {
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let arg = arg.to_str()?;
        match arg {
            "--root" | "--runroot" => {
                rest.next();
            }
            _ if arg.starts_with("--root=") || arg.starts_with("--runroot=") => {}
            _ => return Some(arg),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_command_is_found_after_the_global_flags() {
        assert_eq!(command_name(&args("kist run busybox")), Some("run"));
        assert_eq!(command_name(&args("kist --root /r ps -a")), Some("ps"));
        assert_eq!(
            command_name(&args("kist --root=/r --runroot /x exec c true")),
            Some("exec")
        );
        assert_eq!(command_name(&args("kist --root /r")), None);
        assert!(command(&args("kist images")).is_none());
        assert!(command(&args("kist --version")).is_none());
    }

    /// A lean command's flags are those of the same command in the whole tree, one for one,
    /// so that what parses in the lean tree parses to the same values.
    #[test]
    fn each_lean_command_is_the_whole_tree_s() {
        let whole = crate::command();
        for (name, _) in LEAN {
            let lean = command(&args(&format!("kist {name}"))).unwrap();
            let lean = lean.find_subcommand(name).unwrap();
            let full = whole.find_subcommand(name).unwrap();
            let describe = |c: &Command| {
                let args: Vec<String> = c.get_arguments().map(|a| format!("{a:?}")).collect();
                let groups: Vec<String> = c.get_groups().map(|g| format!("{g:?}")).collect();
                (args, groups, c.is_disable_help_flag_set())
            };
            assert_eq!(describe(lean), describe(full), "kist {name}");
        }
        let root =
            |c: &Command| -> Vec<String> { c.get_arguments().map(|a| format!("{a:?}")).collect() };
        let lean = command(&args("kist run")).unwrap();
        assert_eq!(root(&lean), root(&whole));
    }

    /// The same argument lists give the same parse through either tree.
    #[test]
    fn a_lean_parse_is_the_whole_tree_s() {
        use clap::FromArgMatches;
        for line in [
            "kist run --rm -e A=1 -v /a:/b --name x busybox sh -c true",
            "kist --root /r run -d -p 8080:80 -m 64m busybox",
            "kist create --name job busybox sh",
            "kist ps -a -q --filter status=exited",
            "kist exec -it c sh",
            "kist rm -f a b",
            "kist logs -f --tail 5 web",
            "kist inspect -f {{.Id}} web",
            "kist stop -t 3 a b",
        ] {
            let argv = args(line);
            let mut lean = command(&argv).unwrap().try_get_matches_from(&argv).unwrap();
            let mut full = crate::command().try_get_matches_from(&argv).unwrap();
            let lean = crate::Cli::from_arg_matches_mut(&mut lean).unwrap();
            let full = crate::Cli::from_arg_matches_mut(&mut full).unwrap();
            assert_eq!(lean.globals.root, full.globals.root, "{line}");
            assert_eq!(
                std::mem::discriminant(&lean.command),
                std::mem::discriminant(&full.command),
                "{line}"
            );
        }
    }

    /// Docker's `--rm=false` parses in the lean tree too; help and mistakes are left to the
    /// whole tree, whose messages name the commands around.
    #[test]
    fn help_and_mistakes_go_to_the_whole_tree() {
        let lean = |line: &str| {
            let argv = args(line);
            command(&argv).unwrap().try_get_matches_from(&argv)
        };
        assert!(lean("kist run --rm=false -d=true busybox").is_ok());
        assert!(lean("kist run --help").is_err());
        assert!(lean("kist run --no-such-flag busybox").is_err());
        assert!(lean("kist exec").is_err());
    }
}

//! Typed instructions through the public API: what each instruction parses into, and the errors
//! (with file and line) for what BuildKit refuses.

use std::time::Duration;

use kist_build::{
    ArgDecl, CommandLine, CopySource, Dockerfile, Healthcheck, InstructionKind, KeyValue,
    MountType, Network, Security, expand, parse,
};

fn dockerfile(text: &str) -> Dockerfile {
    parse("Dockerfile", text).unwrap_or_else(|e| panic!("{e}"))
}

/// The kind of the only instruction after `FROM scratch`.
fn only(text: &str) -> InstructionKind {
    let file = dockerfile(&format!("FROM scratch\n{text}\n"));
    let [stage] = file.stages.as_slice() else {
        panic!("one stage");
    };
    let [instruction] = stage.instructions.as_slice() else {
        panic!("one instruction in {text:?}");
    };
    instruction.kind.clone()
}

fn error(text: &str) -> String {
    parse("Dockerfile", text).expect_err(text).to_string()
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

#[test]
fn from_with_stage_names_and_platform() {
    let file = dockerfile(
        "ARG V=1\nFROM --platform=$BUILDPLATFORM golang:$V AS Build\nfrom build as final\n",
    );
    assert_eq!(file.meta_args.len(), 1);
    assert_eq!(file.stages[0].from.image, "golang:$V");
    assert_eq!(file.stages[0].from.name.as_deref(), Some("build"));
    assert_eq!(
        file.stages[0].from.platform.as_deref(),
        Some("$BUILDPLATFORM")
    );
    assert_eq!(file.stages[1].from.image, "build");
    assert_eq!(file.stage("BUILD").map(|(i, _)| i), Some(0));
    assert_eq!(file.stages[1].source.start_line, 3);
    assert_eq!(
        error("FROM a AS\n"),
        "Dockerfile:1: FROM requires either one or three arguments"
    );
    assert_eq!(
        error("FROM a AS 1st\n"),
        "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"
    );
}

#[test]
fn run_shell_exec_and_flags() {
    let InstructionKind::Run(run) = only("RUN --network=none --security=insecure echo \"$HOME\"")
    else {
        panic!("RUN");
    };
    assert_eq!(run.command, CommandLine::Shell("echo \"$HOME\"".into()));
    assert_eq!(
        (run.network, run.security),
        (Network::None, Security::Insecure)
    );
    let InstructionKind::Run(run) = only("run [\"ls\", \"-l\"]") else {
        panic!("RUN");
    };
    assert_eq!(
        run.command,
        CommandLine::Exec(vec!["ls".into(), "-l".into()])
    );
    assert_eq!(
        (run.network, run.security),
        (Network::Default, Security::Sandbox)
    );
    assert_eq!(
        error("FROM a\nRUN --network=bridge x"),
        "Dockerfile:2: invalid network mode \"bridge\""
    );
    assert_eq!(
        error("FROM a\nRUN --security=x y"),
        "Dockerfile:2: security \"x\" is not valid"
    );
    assert_eq!(
        error("FROM a\nRUN --mout=type=cache x"),
        "Dockerfile:2: unknown flag: --mout (did you mean --mount?)"
    );
}

#[test]
fn run_mounts() {
    let text = "RUN --mount=type=cache,target=/root/.cache,id=go,sharing=private \\\n    \
                --mount=type=bind,from=build,source=/out,target=/in,rw \\\n    \
                --mount=type=secret,id=npmrc,target=/root/.npmrc,required=true \\\n    \
                --mount=type=tmpfs,target=/tmp,size=1g \\\n    \
                --mount=type=cache,target=$DIR,uid=$UID make";
    let InstructionKind::Run(run) = only(text) else {
        panic!("RUN");
    };
    assert_eq!(run.command, CommandLine::Shell("make".into()));
    let env: Vec<(String, String)> = vec![("DIR".into(), "/c".into()), ("UID".into(), "7".into())];
    let mounts: Vec<_> = run
        .mounts
        .iter()
        .map(|spec| {
            spec.resolve(|v| expand(v, &env))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let kinds: Vec<MountType> = mounts.iter().map(|m| m.kind).collect();
    use MountType::*;
    assert_eq!(kinds, [Cache, Bind, Secret, Tmpfs, Cache]);
    assert_eq!(mounts[0].id.as_deref(), Some("go"));
    assert!(!mounts[1].readonly);
    assert!(mounts[2].required);
    assert_eq!(mounts[3].size, Some(1 << 30));
    assert_eq!(
        (mounts[4].target.as_deref(), mounts[4].uid),
        (Some("/c"), Some(7))
    );
    assert_eq!(
        error("FROM a\n\nRUN --mount=type=bind,mode=0700,target=/x ls"),
        "Dockerfile:3: mode not allowed for \"bind\" type mounts"
    );
}

#[test]
fn run_heredocs() {
    let text =
        "FROM a\nRUN <<EOF\n  echo $HOME\nEOF\nRUN python3 <<-'PY' 3<<X\n\tprint(1)\n\tPY\nx\nX\n";
    let file = dockerfile(text);
    let runs: Vec<_> = file.stages[0]
        .instructions
        .iter()
        .map(|i| match &i.kind {
            InstructionKind::Run(run) => run.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(runs[0].command, CommandLine::Shell("<<EOF".into()));
    assert_eq!(runs[0].heredocs[0].content, "  echo $HOME\n");
    assert!(runs[0].heredocs[0].expand);
    let py = &runs[1].heredocs[0];
    assert_eq!((py.name.as_str(), py.expand, py.chomp), ("PY", false, true));
    assert_eq!(py.body(), "print(1)\n");
    assert_eq!(
        (runs[1].heredocs[1].fd, runs[1].heredocs[1].content.as_str()),
        (3, "x\n")
    );
    assert_eq!(file.stages[0].instructions[1].source.end_line, 9);
}

#[test]
fn copy_and_add() {
    let InstructionKind::Copy(copy) = only(
        "COPY --from=build --chown=1000:1000 --chmod=0644 --link --parents --exclude=*.md --exclude=x a \"b c\" /dst/",
    ) else {
        panic!("COPY");
    };
    assert_eq!(copy.from.as_deref(), Some("build"));
    assert_eq!(
        (copy.chown.as_deref(), copy.chmod.as_deref()),
        (Some("1000:1000"), Some("0644"))
    );
    assert!(copy.link && copy.parents);
    assert_eq!(copy.excludes, ["*.md", "x"]);
    let paths = [
        CopySource::Path("a".into()),
        CopySource::Path("\"b".into()),
        CopySource::Path("c\"".into()),
    ];
    assert_eq!(
        copy.sources, paths,
        "words are split on blanks only, as BuildKit splits them"
    );
    assert_eq!(copy.dest, "/dst/");
    let InstructionKind::Copy(json) = only("COPY [\"a b\", \"/d\"]") else {
        panic!("COPY");
    };
    assert_eq!(json.sources, [CopySource::Path("a b".into())]);
    let InstructionKind::Add(add) =
        only("ADD --checksum=sha256:abc --keep-git-dir=false --unpack https://x/y.tgz /y")
    else {
        panic!("ADD");
    };
    assert_eq!(add.checksum.as_deref(), Some("sha256:abc"));
    assert_eq!((add.keep_git_dir, add.unpack), (Some(false), Some(true)));
    assert_eq!(
        error("FROM a\nCOPY x"),
        "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert_eq!(
        error("FROM a\nADD --from=b x y"),
        "Dockerfile:2: unknown flag: --from"
    );
    assert_eq!(
        error("FROM a\nCOPY --link=maybe x y"),
        "Dockerfile:2: expecting boolean value for flag --link, not: maybe"
    );
}

#[test]
fn copy_heredocs() {
    let file = dockerfile(
        "FROM a\nCOPY --chmod=755 <<one.sh <<\"two\" /bin/\n#!/bin/sh\nONE\none.sh\n$X\ntwo\n",
    );
    let InstructionKind::Copy(copy) = &file.stages[0].instructions[0].kind else {
        panic!("COPY");
    };
    let [CopySource::Heredoc(one), CopySource::Heredoc(two)] = copy.sources.as_slice() else {
        panic!("two heredocs: {:?}", copy.sources);
    };
    assert_eq!(
        (one.name.as_str(), one.content.as_str(), one.expand),
        ("one.sh", "#!/bin/sh\nONE\n", true)
    );
    assert_eq!(
        (two.name.as_str(), two.content.as_str(), two.expand),
        ("two", "$X\n", false)
    );
    assert_eq!(copy.dest, "/bin/");
    assert_eq!(
        error("FROM a\nCOPY x <<EOF\nEOF\n"),
        "Dockerfile:2: COPY cannot accept a heredoc as a destination"
    );
}

#[test]
fn env_forms() {
    assert_eq!(
        only("ENV A=1 B=\"two words\""),
        InstructionKind::Env(vec![kv("A", "1"), kv("B", "\"two words\"")])
    );
    assert_eq!(
        only("ENV PATH /usr/bin:$PATH"),
        InstructionKind::Env(vec![kv("PATH", "/usr/bin:$PATH")])
    );
    assert_eq!(
        only("LABEL a=b \"c d\"=e"),
        InstructionKind::Label(vec![kv("a", "b"), kv("\"c d\"", "e")])
    );
    // Values are expanded by the executor, which removes the quotes.
    let env: Vec<(String, String)> = Vec::new();
    assert_eq!(
        expand("\"two words\"", &env).ok().as_deref(),
        Some("two words")
    );
    assert_eq!(
        error("FROM a\nENV A=1 B"),
        "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"
    );
    assert_eq!(
        error("FROM a\nENV =1"),
        "Dockerfile:2: ENV names can not be blank"
    );
    assert_eq!(
        error("FROM a\nLABEL"),
        "Dockerfile:2: LABEL requires at least one argument"
    );
}

#[test]
fn args() {
    let decl = |name: &str, default: Option<&str>| ArgDecl {
        name: name.into(),
        default: default.map(String::from),
    };
    assert_eq!(
        only("ARG A B=2 C=\"x y\" D="),
        InstructionKind::Arg(vec![
            decl("A", None),
            decl("B", Some("2")),
            decl("C", Some("\"x y\"")),
            decl("D", Some(""))
        ])
    );
    assert_eq!(
        error("FROM a\nARG"),
        "Dockerfile:2: ARG requires at least one argument"
    );
    assert_eq!(
        error("FROM a\nARG =x"),
        "Dockerfile:2: ARG names can not be blank"
    );
}

#[test]
fn single_argument_instructions() {
    assert_eq!(
        only("WORKDIR /app dir"),
        InstructionKind::Workdir("/app dir".into())
    );
    assert_eq!(
        only("USER app:app"),
        InstructionKind::User("app:app".into())
    );
    assert_eq!(
        only("STOPSIGNAL SIGTERM"),
        InstructionKind::StopSignal("SIGTERM".into())
    );
    assert_eq!(
        only("MAINTAINER Me <me@x>"),
        InstructionKind::Maintainer("Me <me@x>".into())
    );
    assert_eq!(
        error("FROM a\nWORKDIR"),
        "Dockerfile:2: WORKDIR requires exactly one argument"
    );
    assert_eq!(
        error("FROM a\nUSER --x u"),
        "Dockerfile:2: unknown flag: --x"
    );
}

#[test]
fn lists() {
    assert_eq!(
        only("EXPOSE 80 53/udp $P"),
        InstructionKind::Expose(vec!["80".into(), "53/udp".into(), "$P".into()])
    );
    assert_eq!(
        only("VOLUME /a /b"),
        InstructionKind::Volume(vec!["/a".into(), "/b".into()])
    );
    assert_eq!(
        only("VOLUME [\"/a b\"]"),
        InstructionKind::Volume(vec!["/a b".into()])
    );
    assert_eq!(
        error("FROM a\nVOLUME [\" \"]"),
        "Dockerfile:2: VOLUME specified can not be an empty string"
    );
    assert_eq!(
        error("FROM a\nEXPOSE"),
        "Dockerfile:2: EXPOSE requires at least one argument"
    );
}

#[test]
fn cmd_entrypoint_shell() {
    assert_eq!(
        only("CMD [\"a\", \"b\"]"),
        InstructionKind::Cmd(CommandLine::Exec(vec!["a".into(), "b".into()]))
    );
    assert_eq!(
        only("CMD []"),
        InstructionKind::Cmd(CommandLine::Exec(vec![]))
    );
    assert_eq!(
        only("ENTRYPOINT exec app"),
        InstructionKind::Entrypoint(CommandLine::Shell("exec app".into()))
    );
    assert_eq!(
        only("SHELL [\"/bin/bash\", \"-c\"]"),
        InstructionKind::Shell(vec!["/bin/bash".into(), "-c".into()])
    );
    assert_eq!(
        error("FROM a\nSHELL bash -c"),
        "Dockerfile:2: SHELL requires the arguments to be in JSON form"
    );
    assert_eq!(
        error("FROM a\nSHELL []"),
        "Dockerfile:2: SHELL requires at least one argument"
    );
    assert_eq!(
        error("FROM a\nCMD [\"a\", 1]"),
        "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"
    );
}

#[test]
fn healthchecks() {
    assert_eq!(
        only("HEALTHCHECK none"),
        InstructionKind::Healthcheck(Healthcheck::None)
    );
    let InstructionKind::Healthcheck(Healthcheck::Command(check)) = only(
        "HEALTHCHECK --interval=1m30s --timeout=3s --start-period=0s --start-interval=500ms --retries=3 CMD curl -f http://x/ || exit 1",
    ) else {
        panic!("HEALTHCHECK CMD");
    };
    assert_eq!(
        check.command,
        CommandLine::Shell("curl -f http://x/ || exit 1".into())
    );
    assert_eq!(check.interval, Some(Duration::from_secs(90)));
    assert_eq!(check.timeout, Some(Duration::from_secs(3)));
    assert_eq!(check.start_period, None);
    assert_eq!(check.start_interval, Some(Duration::from_millis(500)));
    assert_eq!(check.retries, Some(3));
    let InstructionKind::Healthcheck(Healthcheck::Command(exec)) =
        only("HEALTHCHECK CMD [\"/check\"]")
    else {
        panic!("HEALTHCHECK CMD");
    };
    assert_eq!(exec.command, CommandLine::Exec(vec!["/check".into()]));
    assert_eq!(
        error("FROM a\nHEALTHCHECK NONE x"),
        "Dockerfile:2: HEALTHCHECK NONE takes no arguments"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK CMD"),
        "Dockerfile:2: Missing command after HEALTHCHECK CMD"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK TCP 80"),
        "Dockerfile:2: Unknown type \"TCP\" in HEALTHCHECK (try CMD)"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --interval=1us CMD x"),
        "Dockerfile:2: Interval \"interval\" cannot be less than 1ms"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --retries=-1 CMD x"),
        "Dockerfile:2: --retries cannot be negative (-1)"
    );
    assert!(
        error("FROM a\nHEALTHCHECK --timeout=3 CMD x")
            .starts_with("Dockerfile:2: invalid value \"3\" for --timeout")
    );
}

#[test]
fn onbuild() {
    let InstructionKind::Onbuild(onbuild) = only("ONBUILD RUN --mount=type=cache,target=/c make")
    else {
        panic!("ONBUILD");
    };
    assert!(matches!(onbuild.trigger.kind, InstructionKind::Run(ref run) if run.mounts.len() == 1));
    assert_eq!(onbuild.expression, "RUN --mount=type=cache,target=/c make");
    let file = dockerfile("FROM a\nonbuild COPY <<EOF /x\nhello\nEOF\n");
    let InstructionKind::Onbuild(onbuild) = &file.stages[0].instructions[0].kind else {
        panic!("ONBUILD");
    };
    assert_eq!(onbuild.expression, "COPY <<EOF /x\nhello\nEOF");
    assert!(
        matches!(&onbuild.trigger.kind, InstructionKind::Copy(c) if matches!(&c.sources[0], CopySource::Heredoc(h) if h.content == "hello\n"))
    );
    assert_eq!(
        error("FROM a\nONBUILD ONBUILD RUN x"),
        "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        error("FROM a\nONBUILD FROM b"),
        "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        error("FROM a\nONBUILD maintainer me"),
        "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        error("FROM a\nONBUILD"),
        "Dockerfile:2: ONBUILD requires at least one argument"
    );
    assert_eq!(
        error("FROM a\nONBUILD RUN --bad x"),
        "Dockerfile:2: unknown flag: --bad"
    );
}

#[test]
fn unknown_instructions_and_stages() {
    assert_eq!(
        error("FROM a\n\n\n\n\n\nFORM b\n"),
        "Dockerfile:7: unknown instruction: FORM (did you mean FROM?)"
    );
    assert_eq!(
        error("FROM a\ncopi a b\n"),
        "Dockerfile:2: unknown instruction: copi (did you mean copy?)"
    );
    assert_eq!(
        error("FROM a\nFETCH b\n"),
        "Dockerfile:2: unknown instruction: FETCH"
    );
    assert_eq!(
        error("RUN x\nFROM a\n"),
        "Dockerfile:1: no build stage in current context: RUN before the first FROM"
    );
}

#[test]
fn sources_keep_text_and_lines() {
    let file =
        dockerfile("# syntax=docker/dockerfile:1\n# escape=`\n\nFROM a\nRUN echo a `\n    b\n");
    assert_eq!(file.escape(), '`');
    assert_eq!(
        file.directives.syntax.as_ref().map(|d| d.value.as_str()),
        Some("docker/dockerfile:1")
    );
    let run = &file.stages[0].instructions[0];
    assert_eq!(run.source.original, "RUN echo a     b");
    assert_eq!((run.source.start_line, run.source.end_line), (5, 6));
    assert_eq!(run.source.name, "RUN");
}

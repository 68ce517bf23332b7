//! `kist build`: Dockerfiles in temporary contexts built into real images, which are then run.

mod common;
use common::*;
use std::path::Path;

/// A context directory holding `files` (path, content) and the Dockerfile `dockerfile`.
fn context(dockerfile: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn build(k: &Kist, tag: &str, dir: &Path) -> String {
    k.ok(&["build", "-t", tag, dir.to_str().unwrap()])
}

fn config(k: &Kist, image: &str) -> serde_json::Value {
    let out = k.ok(&["image", "inspect", image]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0]["Config"].clone()
}

#[test]
#[ignore = "needs root"]
fn run_and_copy_steps_make_an_image_that_runs() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nARG WHO=world\nENV GREETING=hello\nWORKDIR /app\nCOPY a.txt .\n\
         RUN echo \"$GREETING $WHO\" > /greet\nRUN [\"sh\", \"-c\", \"cat a.txt >> /greet\"]\n\
         CMD [\"cat\", \"/greet\"]\n",
        &[("a.txt", "from the context\n")],
    );
    let out = k.ok(&[
        "build",
        "-t",
        "demo:1",
        "--build-arg",
        "WHO=kist",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.contains("#1 [1/8] FROM busybox"), "{out}");
    assert!(
        out.contains("#6 [6/8] RUN echo \"$GREETING $WHO\" > /greet"),
        "{out}"
    );
    assert!(out.contains("naming to docker.io/library/demo:1"), "{out}");
    assert_eq!(
        k.ok(&["run", "--rm", "demo:1"]),
        "hello kist\nfrom the context\n"
    );
    assert_eq!(k.ok(&["run", "--rm", "demo:1", "pwd"]), "/app\n");
    // The ARG is not kept in the image; the ENV is.
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "demo:1",
            "sh",
            "-c",
            "echo ${WHO:-unset} $GREETING"
        ]),
        "unset hello\n"
    );
    // No step's container or temporary image is left.
    k.assert_clean();
    let images = k.ok(&["images", "-q"]);
    assert_eq!(images.lines().count(), 2, "{images}");
}

#[test]
#[ignore = "needs root"]
fn the_config_keeps_every_instruction_and_history_has_one_entry_each() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nMAINTAINER someone\nLABEL a=b \"c d\"=e\nEXPOSE 80 53/udp\nVOLUME /data\n\
         USER 1000:1000\nSTOPSIGNAL SIGUSR1\nSHELL [\"/bin/sh\", \"-ec\"]\n\
         HEALTHCHECK --interval=5s --retries=2 CMD true\nENTRYPOINT [\"echo\"]\nCMD hi\n",
        &[],
    );
    k.ok(&[
        "build",
        "-q",
        "-t",
        "meta",
        "--label",
        "built=yes",
        dir.path().to_str().unwrap(),
    ]);
    let c = config(&k, "meta");
    assert_eq!(c["Labels"]["a"], "b");
    assert_eq!(c["Labels"]["c d"], "e");
    assert_eq!(c["Labels"]["maintainer"], "someone");
    assert_eq!(c["Labels"]["built"], "yes");
    assert!(c["ExposedPorts"]["80/tcp"].is_object(), "{c}");
    assert!(c["ExposedPorts"]["53/udp"].is_object(), "{c}");
    assert!(c["Volumes"]["/data"].is_object(), "{c}");
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["StopSignal"], "SIGUSR1");
    assert_eq!(c["Entrypoint"], serde_json::json!(["echo"]));
    // The shell form goes through SHELL's shell.
    assert_eq!(c["Cmd"], serde_json::json!(["/bin/sh", "-ec", "hi"]));
    let history = k.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "meta",
    ]);
    assert_eq!(history.lines().count(), 11, "{history}");
    assert!(history.starts_with("CMD hi\n"), "{history}");
    // The health check is kept where the health code reads it, and is run.
    let out = k.ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Healthcheck}}",
        "meta",
    ]);
    assert!(out.contains("\"Retries\":2"), "{out}");
    assert!(out.contains("5000000000"), "{out}");
}

#[test]
#[ignore = "needs root"]
fn copy_keeps_owners_and_modes_asked_for_and_copies_symlinks_as_symlinks() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nCOPY --chown=1000:100 --chmod=640 dir /dst/\nCOPY links plain.txt /l/\n\
         COPY --chown=nobody *.md /md/\n",
        &[
            ("dir/sub/f", "inner"),
            ("plain.txt", "plain"),
            ("a.md", "a"),
            ("b.md", "b"),
            ("c.txt", "c"),
        ],
    );
    // A symlink met in a directory that is copied stays a symlink (one named as a source
    // is followed: see the next test).
    std::fs::create_dir(dir.path().join("links")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", dir.path().join("links/link")).unwrap();
    build(&k, "files", dir.path());
    let out = k.ok(&[
        "run",
        "--rm",
        "files",
        "stat",
        "-c",
        "%u:%g %a %n",
        "/dst/sub/f",
        "/l/plain.txt",
        "/md/a.md",
    ]);
    assert_eq!(
        out,
        "1000:100 640 /dst/sub/f\n0:0 644 /l/plain.txt\n65534:65534 644 /md/a.md\n"
    );
    assert_eq!(
        k.ok(&["run", "--rm", "files", "readlink", "/l/link"]),
        "/etc/shadow\n"
    );
    // The wildcard took only what it matches.
    assert_eq!(k.ok(&["run", "--rm", "files", "ls", "/md"]), "a.md\nb.md\n");
}

#[test]
#[ignore = "needs root"]
fn sources_outside_the_context_are_refused() {
    let k = Kist::with_busybox();
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret"), "no").unwrap();
    let dir = context("FROM busybox\nCOPY ../secret /\n", &[]);
    std::fs::rename(dir.path(), outer.path().join("ctx")).unwrap();
    let ctx = outer.path().join("ctx");
    let err = k.fails(&["build", ctx.to_str().unwrap()], 1);
    assert!(err.contains("outside the build context"), "{err}");
    // A symlink in the context is never followed out of it.
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY out/secret /\n").unwrap();
    std::os::unix::fs::symlink(outer.path(), ctx.join("out")).unwrap();
    let err = k.fails(&["build", ctx.to_str().unwrap()], 1);
    assert!(err.contains("symlink"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn dockerignore_leaves_out_what_it_names() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nCOPY . /ctx/\n",
        &[
            (".dockerignore", "*.log\n!keep.log\n**/secret\n"),
            ("a.log", "x"),
            ("keep.log", "x"),
            ("deep/er/secret", "x"),
            ("deep/er/ok", "x"),
        ],
    );
    build(&k, "ign", dir.path());
    let out = k.ok(&["run", "--rm", "ign", "find", "/ctx", "-type", "f"]);
    let mut files: Vec<&str> = out.lines().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/deep/er/ok",
            "/ctx/keep.log"
        ]
    );
    // A Dockerfile's own FILE.dockerignore is read instead.
    let own = dir.path().join("other.Dockerfile");
    std::fs::write(&own, "FROM busybox\nCOPY . /ctx/\n").unwrap();
    std::fs::write(dir.path().join("other.Dockerfile.dockerignore"), "deep\n").unwrap();
    k.ok(&[
        "build",
        "-f",
        own.to_str().unwrap(),
        "-t",
        "own",
        dir.path().to_str().unwrap(),
    ]);
    let out = k.ok(&["run", "--rm", "own", "ls", "-a", "/ctx"]);
    assert!(!out.contains("deep") && out.contains("a.log"), "{out}");
}

#[test]
#[ignore = "needs root"]
fn add_extracts_a_local_tar_and_refuses_urls() {
    let k = Kist::with_busybox();
    let dir = context("FROM busybox\nADD files.tar.gz /x/\n", &[]);
    let tarball = std::fs::File::create(dir.path().join("files.tar.gz")).unwrap();
    let gz = flate2::write::GzEncoder::new(tarball, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(5);
    header.set_mode(0o600);
    header.set_uid(7);
    header.set_gid(8);
    tar.append_data(&mut header, "in/file", &b"inner"[..])
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    build(&k, "added", dir.path());
    assert_eq!(
        k.ok(&["run", "--rm", "added", "cat", "/x/in/file"]),
        "inner"
    );
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "added",
            "stat",
            "-c",
            "%u:%g %a",
            "/x/in/file"
        ]),
        "7:8 600\n"
    );
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nADD https://example.com/f /\n",
    )
    .unwrap();
    let err = k.fails(&["build", dir.path().to_str().unwrap()], 1);
    assert!(err.contains("remote sources"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn a_failing_run_says_so_and_leaves_nothing() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nCOPY a /a\nRUN echo partial > /p && exit 3\n",
        &[("a", "a")],
    );
    let layers_before = k.entries("layers").len();
    let err = k.fails(&["build", "-t", "broken", dir.path().to_str().unwrap()], 1);
    assert!(err.contains("exit code: 3"), "{err}");
    assert!(err.contains("echo partial > /p && exit 3"), "{err}");
    let images = k.ok(&["images", "-q"]);
    assert_eq!(images.lines().count(), 1, "{images}");
    k.assert_clean();
    // The COPY's layer is the build cache's alone (the failed RUN made none): pruning the
    // cache takes it.
    k.ok(&["image", "prune", "-f"]);
    assert_eq!(k.entries("layers").len(), layers_before + 1);
    k.ok(&["builder", "prune", "-f"]);
    assert_eq!(k.entries("layers").len(), layers_before);
}

#[test]
#[ignore = "needs root"]
fn from_scratch_and_from_stdin() {
    let k = Kist::with_busybox();
    let dir = context("FROM scratch\nCOPY only /only\n", &[("only", "just this")]);
    build(&k, "tiny", dir.path());
    let out = k.ok(&[
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "tiny",
    ]);
    assert_eq!(out.trim(), "1");
    let out = k.run_with_stdin(
        &["build", "-q", "-t", "piped", "-"],
        b"FROM busybox\nRUN echo x > /x\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out);
    assert!(id.starts_with("sha256:") && id.lines().count() == 1, "{id}");
    assert_eq!(k.ok(&["run", "--rm", "piped", "cat", "/x"]), "x\n");
    // A bad name is a bad flag, refused before anything is built.
    let err = k.fails(&["build", "-t", "Bad Name", "-"], 125);
    assert!(err.contains("invalid argument \"Bad Name\""), "{err}");
    // Without a context, nothing can be copied.
    let out = k.run_with_stdin(&["build", "-"], b"FROM busybox\nCOPY a /a\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no build context"),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs root"]
fn a_built_health_check_is_what_a_container_of_the_image_runs() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD exit 1\n",
        &[],
    );
    build(&k, "sick", dir.path());
    let id = k.ok(&["run", "-d", "sick", "sleep", "60"]);
    let id = id.trim();
    let out = k.ok(&[
        "inspect",
        "--format",
        "{{json .Config.Healthcheck.Test}}",
        id,
    ]);
    assert_eq!(out.trim(), r#"["CMD-SHELL","exit 1"]"#);
    wait_until("the check to fail", || {
        k.ok(&["inspect", "--format", "{{.State.Health.Status}}", id])
            .trim()
            == "unhealthy"
    });
    k.ok(&["rm", "-f", id]);
}

#[test]
#[ignore = "needs root"]
fn multi_stage_copies_from_stages_and_images_and_builds_only_what_the_target_needs() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox AS builder\nRUN mkdir -p /out/sub && echo built > /out/sub/artifact && \
         ln -s sub/artifact /out/link && echo gone > /out/deleted\nRUN rm /out/deleted\n\
         FROM busybox AS unused\nRUN echo never > /never && exit 9\n\
         FROM builder AS extended\nRUN echo more >> /out/sub/artifact\n\
         FROM scratch\nCOPY --from=builder /out /from-name/\nCOPY --from=0 /out/sub/artifact /by-index\n\
         COPY --from=busybox /bin/busybox /bin/\nCOPY --from=extended /out/sub/artifact /extended\n\
         COPY --from=builder /out/link /followed-link\n",
        &[],
    );
    let out = build(&k, "multi", dir.path());
    assert!(!out.contains("never"), "the unused stage was built: {out}");
    assert!(out.contains("[builder 2/3] RUN"), "{out}");
    let cat = |path: &str| k.ok(&["run", "--rm", "multi", "/bin/busybox", "cat", path]);
    assert_eq!(cat("/from-name/sub/artifact"), "built\n");
    assert_eq!(cat("/from-name/link"), "built\n");
    assert_eq!(cat("/by-index"), "built\n");
    assert_eq!(cat("/extended"), "built\nmore\n");
    // A symlink named as the source is followed inside the stage, as BuildKit follows it.
    assert_eq!(cat("/followed-link"), "built\n");
    // What a later layer deleted is not copied.
    let ls = k.ok(&["run", "--rm", "multi", "/bin/busybox", "ls", "/from-name"]);
    assert_eq!(ls, "link\nsub\n");
    // --target stops at that stage and builds only what it needs.
    let out = k.ok(&[
        "build",
        "--target",
        "extended",
        "-t",
        "ext",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        !out.contains("FROM scratch") && !out.contains("never"),
        "{out}"
    );
    assert_eq!(
        k.ok(&["run", "--rm", "ext", "cat", "/out/sub/artifact"]),
        "built\nmore\n"
    );
    k.assert_clean();
}

/// The lines of a build's output that say a step was taken from the cache.
fn cached_steps(out: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].ends_with(" CACHED"))
        .map(|w| {
            w[0].split_once(' ')
                .map_or("", |(_, rest)| rest)
                .to_string()
        })
        .collect()
}

#[test]
#[ignore = "needs root"]
fn the_cache_reruns_only_from_the_step_a_change_affects() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nCOPY one /one\nRUN cat /one > /seen-one\nCOPY two /two\n\
         RUN cat /two > /seen-two && cat /proc/sys/kernel/random/uuid > /stamp\nCMD [\"cat\", \"/seen-one\", \"/seen-two\"]\n",
        &[("one", "1\n"), ("two", "2\n")],
    );
    let first = build(&k, "cached", dir.path());
    assert!(cached_steps(&first).is_empty(), "{first}");
    let id = k.ok(&["images", "-q", "cached"]);
    let stamp = k.ok(&["run", "--rm", "cached", "cat", "/stamp"]);
    // Nothing changed: every step is a hit, and the image is the same one.
    let again = build(&k, "cached", dir.path());
    assert_eq!(cached_steps(&again).len(), 5, "{again}");
    assert_eq!(k.ok(&["images", "-q", "cached"]), id);
    // A file's time alone is not a change.
    let two = dir.path().join("two");
    std::fs::File::options()
        .write(true)
        .open(&two)
        .unwrap()
        .set_modified(std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(cached_steps(&build(&k, "cached", dir.path())).len(), 5);
    // The second file changed: the steps before its COPY are hits, the rest run again.
    std::fs::write(&two, "2 changed\n").unwrap();
    let changed = build(&k, "cached", dir.path());
    assert_eq!(
        cached_steps(&changed),
        ["[2/6] COPY one /one", "[3/6] RUN cat /one > /seen-one"],
        "{changed}"
    );
    assert_eq!(k.ok(&["run", "--rm", "cached"]), "1\n2 changed\n");
    assert_ne!(k.ok(&["run", "--rm", "cached", "cat", "/stamp"]), stamp);
    // A build arg in scope is part of the key of the steps after its ARG.
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nARG V=1\nRUN echo $V > /v\n",
    )
    .unwrap();
    build(&k, "args", dir.path());
    let out = k.ok(&[
        "build",
        "--build-arg",
        "V=2",
        "-t",
        "args",
        dir.path().to_str().unwrap(),
    ]);
    assert!(cached_steps(&out).is_empty(), "{out}");
    assert_eq!(k.ok(&["run", "--rm", "args", "cat", "/v"]), "2\n");
    // --no-cache runs every step.
    let out = k.ok(&[
        "build",
        "--no-cache",
        "-t",
        "args",
        dir.path().to_str().unwrap(),
    ]);
    assert!(cached_steps(&out).is_empty(), "{out}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn builder_prune_removes_the_cache_and_the_layers_only_it_held() {
    let k = Kist::with_busybox();
    let dir = context("FROM busybox\nRUN echo x > /x\n", &[]);
    build(&k, "pruned", dir.path());
    k.ok(&["rmi", "pruned"]);
    let layers = k.entries("layers").len();
    // The cache holds the RUN's layer against image prune.
    k.ok(&["image", "prune", "-f"]);
    assert_eq!(k.entries("layers").len(), layers);
    let out = build(&k, "pruned", dir.path());
    assert_eq!(cached_steps(&out).len(), 1, "{out}");
    k.ok(&["rmi", "pruned"]);
    let out = k.ok(&["builder", "prune", "-f"]);
    assert!(out.starts_with("Total reclaimed space: "), "{out}");
    assert_eq!(k.entries("layers").len(), layers - 1);
    let out = build(&k, "pruned", dir.path());
    assert!(cached_steps(&out).is_empty(), "{out}");
    // system prune takes the cache too.
    k.ok(&["rmi", "pruned"]);
    let out = k.ok(&["system", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(k.entries("layers").len(), layers - 1);
}

#[test]
#[ignore = "needs root"]
fn a_build_killed_during_a_run_step_leaves_nothing_the_next_command_does_not_clean() {
    let k = Kist::with_busybox();
    // The ENV makes the RUN's image (the stage so far) a new one, which must go too.
    let dir = context("FROM busybox\nENV A=1\nRUN sleep 60\n", &[]);
    let mut build = k
        .command(&["build", "-t", "killed", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the RUN step's container to run", || {
        !k.ok(&["ps", "-q"]).trim().is_empty()
    });
    build.kill().unwrap();
    build.wait().unwrap();
    // The next command cleans up: no container, no write layer, no image.
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    k.assert_clean();
    let images = k.ok(&["images"]);
    assert_eq!(images.lines().count(), 2, "{images}");
}

#[test]
#[ignore = "needs root"]
fn independent_stages_build_at_the_same_time() {
    let k = Kist::with_busybox();
    // Each stage's RUN waits for /go, which the test makes only once both step containers
    // run at once: built one after another, the second would never start.
    let wait = "RUN while [ ! -e /go ]; do sleep 0.1; done";
    let dir = context(
        &format!(
            "FROM busybox AS a\n{wait}\nRUN echo a > /a\nFROM busybox AS b\n{wait}\nRUN echo b > /b\n\
             FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"
        ),
        &[],
    );
    let build = k
        .command(&["build", "-t", "both", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A build that ends early (it failed) says why; a slow machine gets a minute.
    let mut build = build;
    let start = std::time::Instant::now();
    while k.ok(&["ps", "-q"]).lines().count() != 2 {
        if let Some(status) = build.try_wait().unwrap() {
            let out = build.wait_with_output().unwrap();
            panic!(
                "the build ended ({status}) before both stages ran: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "both stages never ran at once"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for id in k.ok(&["ps", "-q"]).lines() {
        k.ok(&["exec", id, "touch", "/go"]);
    }
    let out = build.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(k.ok(&["run", "--rm", "both", "cat", "/a", "/b"]), "a\nb\n");
}

#[test]
#[ignore = "needs root"]
fn run_heredocs_run_as_scripts_and_feed_commands() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nARG WHO=heredoc\nRUN <<EOF\necho one > /script\necho \"$WHO\" >> /script\nEOF\n\
         RUN cat <<-'EOT' > /fed\n\tkept $WHO\n\tEOT\n",
        &[],
    );
    build(&k, "docs", dir.path());
    assert_eq!(
        k.ok(&["run", "--rm", "docs", "cat", "/script"]),
        "one\nheredoc\n"
    );
    assert_eq!(k.ok(&["run", "--rm", "docs", "cat", "/fed"]), "kept $WHO\n");
    // A body is part of its step's cache key.
    let text = std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        text.replace("echo one", "echo two"),
    )
    .unwrap();
    build(&k, "docs", dir.path());
    assert_eq!(
        k.ok(&["run", "--rm", "docs", "cat", "/script"]),
        "two\nheredoc\n"
    );
}

#[test]
#[ignore = "needs root"]
fn copy_heredocs_become_files() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nENV WHO=kist\nCOPY <<EOF /etc/greeting\nhello \"$WHO\"\nEOF\n\
         COPY --chmod=755 <<'ONE' <<TWO /bin/\n#!/bin/sh\necho $WHO\nONE\nsecond\nTWO\n",
        &[],
    );
    build(&k, "inline", dir.path());
    assert_eq!(
        k.ok(&["run", "--rm", "inline", "cat", "/etc/greeting"]),
        "hello \"kist\"\n"
    );
    assert_eq!(k.ok(&["run", "--rm", "inline", "/bin/ONE"]), "kist\n");
    assert_eq!(
        k.ok(&["run", "--rm", "inline", "stat", "-c", "%a", "/bin/TWO"]),
        "755\n"
    );
}

#[test]
#[ignore = "needs root"]
fn run_mounts_give_caches_tmpfs_secrets_and_context_files_without_putting_them_in_the_image() {
    let k = Kist::with_busybox();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "s3cret").unwrap();
    let dir = context(
        "FROM busybox\n\
         RUN --mount=type=cache,target=/cache sh -c 'echo run >> /cache/log; wc -l < /cache/log > /count'\n\
         RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f && grep -q \" /scratch tmpfs\" /proc/mounts'\n\
         RUN --mount=type=secret,id=token sh -c 'cat /run/secrets/token > /seen-secret-length; wc -c < /run/secrets/token > /secret-length'\n\
         RUN --mount=type=bind,source=data,target=/data cp /data/file /copied\n",
        &[("data/file", "from the context")],
    );
    let d = dir.path().to_str().unwrap();
    let secret_arg = format!("id=token,src={}", secret.path().display());
    k.ok(&["build", "--secret", &secret_arg, "-t", "mounted", d]);
    let cat = |path: &str| k.ok(&["run", "--rm", "mounted", "cat", path]);
    assert_eq!(cat("/count").trim(), "1");
    assert_eq!(cat("/secret-length").trim(), "6");
    assert_eq!(cat("/copied"), "from the context");
    // Nothing mounted is in the image.
    let out = k.ok(&[
        "run",
        "--rm",
        "mounted",
        "sh",
        "-c",
        "ls /cache /scratch; cat /run/secrets/token 2>/dev/null; true",
    ]);
    assert_eq!(out, "/cache:\n\n/scratch:\n", "{out}");
    // The cache mount is kept between builds (the step re-runs with --no-cache) ...
    k.ok(&[
        "build",
        "--no-cache",
        "--secret",
        &secret_arg,
        "-t",
        "mounted",
        d,
    ]);
    assert_eq!(cat("/count").trim(), "2");
    // ... until builder prune.
    k.ok(&["builder", "prune", "-f"]);
    k.ok(&["build", "--secret", &secret_arg, "-t", "mounted", d]);
    assert_eq!(cat("/count").trim(), "1");
    // A required secret that is not given fails the build.
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nRUN --mount=type=secret,id=x,required cat /run/secrets/x\n",
    )
    .unwrap();
    let err = k.fails(&["build", d], 1);
    assert!(err.contains("--secret id=x"), "{err}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn onbuild_triggers_run_in_the_child_build_and_are_not_passed_on() {
    let k = Kist::with_busybox();
    let parent = context(
        "FROM busybox\nONBUILD COPY marker /marker\nONBUILD RUN echo triggered > /triggered\n",
        &[],
    );
    build(&k, "base-with-triggers", parent.path());
    // Not run in the image that declares them.
    let out = k.run(&["run", "--rm", "base-with-triggers", "cat", "/triggered"]);
    assert!(!out.status.success());
    let child = context(
        "FROM base-with-triggers\nRUN cat /marker /triggered > /both\n",
        &[("marker", "from the child's context\n")],
    );
    let out = build(&k, "child", child.path());
    assert!(
        out.contains("ONBUILD RUN echo triggered > /triggered"),
        "{out}"
    );
    assert_eq!(
        k.ok(&["run", "--rm", "child", "cat", "/both"]),
        "from the child's context\ntriggered\n"
    );
    let config = k.ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        "base-with-triggers",
    ]);
    assert!(config.contains("OnBuild"), "{config}");
    let config = k.ok(&["image", "inspect", "--format", "{{json .Config}}", "child"]);
    assert!(!config.contains("OnBuild"), "{config}");
}

/// The interface names of a /proc/net/dev.
fn interfaces(dev: &str) -> Vec<String> {
    let mut names: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .collect();
    names.sort();
    names
}

#[test]
#[ignore = "needs root"]
fn network_flags_choose_the_network_of_the_run_steps() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nRUN cat /proc/net/dev > /default\n\
         RUN --network=none cat /proc/net/dev > /none\n\
         RUN --network=host cat /proc/net/dev > /host\n",
        &[],
    );
    let host = interfaces(&std::fs::read_to_string("/proc/net/dev").unwrap());
    let path = dir.path().to_str().unwrap();
    let read = |image: &str, file: &str| interfaces(&k.ok(&["run", "--rm", image, "cat", file]));
    // RUN --network=host is Docker's network.host entitlement: refused without --allow.
    let err = k.fails(&["build", "-t", "default", path], 1);
    assert!(err.contains("pass --allow network.host"), "{err}");
    // kist's default network here is none (KIST_DEFAULT_NETWORK in the tests).
    k.ok(&["build", "--allow", "network.host", "-t", "default", path]);
    assert_eq!(read("default", "/default"), ["lo"]);
    assert_eq!(read("default", "/none"), ["lo"]);
    assert_eq!(read("default", "/host"), host);
    // --network host: the steps without a --network of their own; and it is in their cache
    // key, so the step that ran with none runs again.
    // (`--network host` grants network.host, as buildx's does.)
    let out = k.ok(&["build", "--network", "host", "-t", "host", path]);
    assert!(out.contains("#2 DONE"), "{out}");
    assert_eq!(read("host", "/default"), host);
    assert_eq!(read("host", "/none"), ["lo"]);
    // --network default is kist's default again, from the cache.
    let out = k.ok(&[
        "build",
        "--network",
        "default",
        "--allow",
        "network.host",
        "-t",
        "again",
        path,
    ]);
    assert!(out.contains("#2 CACHED"), "{out}");
    assert_eq!(read("again", "/default"), ["lo"]);
    // A network by name is refused as a bad flag, before anything runs.
    let err = k.fails(&["build", "--network", "bridge", path], 125);
    assert!(
        err.contains("kist build takes default, none or host"),
        "{err}"
    );
    let dir = context("FROM busybox\nRUN --network=bridge true\n", &[]);
    let err = k.fails(&["build", dir.path().to_str().unwrap()], 1);
    assert!(err.contains("bridge"), "{err}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn progress_plain_names_each_step_with_its_time_and_tty_needs_a_terminal() {
    let k = Kist::with_busybox();
    let dir = context("FROM busybox\nRUN echo from the step\nENV A=1\n", &[]);
    let path = dir.path().to_str().unwrap();
    let out = k.ok(&["build", "--progress", "plain", "-t", "p", path]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "#1 [1/3] FROM busybox", "{out}");
    assert!(lines[1].starts_with("#1 DONE "), "{out}");
    assert_eq!(lines[2], "#2 [2/3] RUN echo from the step", "{out}");
    assert_eq!(lines[3], "from the step", "{out}");
    assert!(
        lines[4].starts_with("#2 DONE ") && lines[4].ends_with('s'),
        "{out}"
    );
    assert_eq!(lines[5], "#3 [3/3] ENV A=1", "{out}");
    assert!(lines[7].starts_with("writing image sha256:"), "{out}");
    assert_eq!(lines[8], "naming to docker.io/library/p:latest", "{out}");
    // auto is plain when stdout is not a terminal: the same lines, the steps cached.
    let out = k.ok(&["build", "-t", "p", path]);
    assert!(
        out.contains("#2 [2/3] RUN echo from the step\n#2 CACHED\n"),
        "{out}"
    );
    let err = k.fails(&["build", "--progress", "tty", path], 125);
    assert!(err.contains("not a terminal"), "{err}");
    let out = k.run(&["build", "--progress", "fancy", path]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"fancy\" for \"--progress\""),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs root"]
fn pull_never_refuses_a_missing_base_and_bad_policies_are_bad_flags() {
    let k = Kist::with_busybox();
    let dir = context("FROM localhost:1/nothing:here\nRUN true\n", &[]);
    let path = dir.path().to_str().unwrap();
    let err = k.fails(&["build", "--pull=never", path], 1);
    assert!(
        err.contains("no such image in the store, and --pull=never"),
        "{err}"
    );
    let err = k.fails(&["build", "--pull=sometimes", path], 125);
    assert!(err.contains("expected always, missing or never"), "{err}");
    // An image present is used with never; `--pull` alone does not eat the context.
    let dir = context("FROM busybox\n", &[]);
    k.ok(&["build", "--pull=never", dir.path().to_str().unwrap()]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn bind_mounts_from_stages_images_and_the_context_and_their_content_in_the_cache_key() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox AS tools\n\
         RUN mkdir -p /opt/tools && echo tool-v1 > /opt/tools/version && ln -s version /opt/tools/link\n\
         FROM busybox\n\
         COPY --link a.txt /a.txt\n\
         RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/tools cat /mnt/tools/version /mnt/tools/link > /from-stage\n\
         RUN --mount=type=bind,from=busybox,source=/etc,target=/mnt/etc head -n 1 /mnt/etc/passwd > /from-image\n\
         RUN --mount=type=bind,source=conf,target=/conf cat /conf/setting > /from-context\n\
         RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/rw,rw sh -c 'echo changed > /mnt/rw/version && cat /mnt/rw/version' > /rw\n\
         RUN --mount=type=bind,from=tools,source=/opt/tools/version,target=/v cat /v > /after\n",
        &[("a.txt", "linked\n"), ("conf/setting", "one\n")],
    );
    let path = dir.path().to_str().unwrap();
    build(&k, "binds", dir.path());
    let cat = |file: &str| k.ok(&["run", "--rm", "binds", "cat", file]);
    assert_eq!(cat("/a.txt"), "linked\n");
    assert_eq!(cat("/from-stage"), "tool-v1\ntool-v1\n");
    assert_eq!(cat("/from-image"), "root:x:0:0:root:/root:/bin/sh\n");
    assert_eq!(cat("/from-context"), "one\n");
    // A writable bind takes the writes, and they reach neither the stage nor a later step.
    assert_eq!(cat("/rw"), "changed\n");
    assert_eq!(cat("/after"), "tool-v1\n");
    // Nothing mounted is in the image.
    let out = k.run(&["run", "--rm", "binds", "cat", "/mnt/tools/version"]);
    assert!(!out.status.success(), "{}", stdout(&out));

    // All cached; then a change to the bound context file runs its step again and the
    // later ones, and no earlier one.
    let out = build(&k, "binds", dir.path());
    for n in [2, 4, 5, 6, 7, 8, 9] {
        assert!(out.contains(&format!("#{n} CACHED")), "#{n}: {out}");
    }
    std::fs::write(dir.path().join("conf/setting"), "two\n").unwrap();
    let out = k.ok(&["build", "-t", "binds", path]);
    for n in [2, 4, 5, 6] {
        assert!(out.contains(&format!("#{n} CACHED")), "#{n}: {out}");
    }
    for n in [7, 8, 9] {
        assert!(out.contains(&format!("#{n} DONE")), "#{n}: {out}");
    }
    assert_eq!(cat("/from-context"), "two\n");
    // A file beside it that the mount does not show changes nothing.
    std::fs::write(dir.path().join("unrelated"), "x\n").unwrap();
    let out = k.ok(&["build", "-t", "binds", path]);
    assert!(out.contains("#7 CACHED"), "{out}");
    // No temporary tree is left in the store.
    assert_eq!(
        k.entries("tmp")
            .into_iter()
            .filter(|e| e.starts_with("build-bind"))
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_fifo_made_by_a_run_step_is_kept_in_the_layer() {
    let k = Kist::with_busybox();
    // The write layer's tar had a fifo with empty device numbers, which the store's
    // unpacking refused ("numeric field was not a number").
    let dir = context("FROM busybox\nRUN mkfifo -m 0640 /fifo\n", &[]);
    build(&k, "fifo", dir.path());
    assert_eq!(
        k.ok(&["run", "--rm", "fifo", "stat", "-c", "%F %a", "/fifo"]),
        "fifo 640\n"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_working_directory_made_for_a_run_step_is_not_world_writable() {
    let k = Kist::with_busybox();
    // The runtime made a missing working directory with mode 0777 (its umask is 0), and the
    // RUN step's layer kept it so (found comparing with podman build).
    let dir = context("FROM busybox\nWORKDIR /srv/app/sub\nRUN true\n", &[]);
    build(&k, "workdir", dir.path());
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "workdir",
            "stat",
            "-c",
            "%a",
            "/srv",
            "/srv/app",
            "/srv/app/sub"
        ]),
        "755\n755\n755\n"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn workdir_makes_its_directory_in_a_layer_owned_by_the_user_as_buildkit_does() {
    let k = Kist::with_busybox();
    // BuildKit makes a missing WORKDIR (and its parents) at that step, 0755, owned by the
    // USER then in force (names looked up in the image); one that exists changes no file.
    let dir = context(
        "FROM busybox\nWORKDIR /srv/app\nUSER nobody\nWORKDIR data/cache\n\
         RUN pwd && touch own-file\nWORKDIR /tmp\nUSER root\nWORKDIR /made/without/run\n",
        &[],
    );
    let out = build(&k, "workdirs", dir.path());
    assert!(out.contains("\n/srv/app/data/cache\n"), "{out}");
    let stat = k.ok(&[
        "run",
        "--rm",
        "workdirs",
        "stat",
        "-c",
        "%u:%g %a %n",
        "/srv",
        "/srv/app",
        "/srv/app/data",
        "/srv/app/data/cache",
        "/srv/app/data/cache/own-file",
        "/made/without/run",
    ]);
    assert_eq!(
        stat,
        "0:0 755 /srv\n0:0 755 /srv/app\n65534:65534 755 /srv/app/data\n\
         65534:65534 755 /srv/app/data/cache\n65534:65534 644 /srv/app/data/cache/own-file\n\
         0:0 755 /made/without/run\n"
    );
    // The directory is in the image itself, not made by the container that runs it.
    let ls = k.ok(&["create", "--name", "look", "workdirs", "true"]);
    assert!(!ls.trim().is_empty());
    let exported = k.run(&["export", "look"]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let mut archive = tar::Archive::new(&exported.stdout[..]);
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.trim_end_matches('/') == "made/without/run"),
        "{names:?}"
    );
    k.ok(&["rm", "look"]);
    // Three WORKDIRs made directories: three layers, and a RUN's; /tmp was there already.
    let base = k.ok(&[
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "busybox",
    ]);
    let layers = k.ok(&[
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "workdirs",
    ]);
    let base: usize = base.trim().parse().unwrap();
    assert_eq!(layers.trim().parse::<usize>().unwrap(), base + 4);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn copy_follows_a_symlink_named_as_its_source_inside_the_context_and_never_out_of_it() {
    let k = Kist::with_busybox();
    let dir = context(
        "FROM busybox\nCOPY link /copied\nCOPY link /named/\nCOPY dirlink /from-dirlink/\n\
         COPY dir /dir/\nCOPY sub/up /up\nCOPY l*k /wild/\nCOPY host-passwd /passwd\n",
        &[
            ("real.txt", "real content\n"),
            ("dir/inner.txt", "inner\n"),
            ("sub/.keep", ""),
            ("etc/passwd", "the context's own\n"),
        ],
    );
    let ctx = dir.path();
    let link =
        |target: &str, name: &str| std::os::unix::fs::symlink(target, ctx.join(name)).unwrap();
    link("real.txt", "link");
    link("dir", "dirlink");
    link("../real.txt", "dir/keep");
    link("../real.txt", "sub/up");
    // An absolute target is taken inside the context, as BuildKit takes it: the context's
    // etc/passwd, never the host's.
    link("/etc/passwd", "host-passwd");
    build(&k, "followed", ctx);
    let run = |args: &[&str]| {
        let mut all = vec!["run", "--rm", "followed"];
        all.extend(args);
        k.ok(&all)
    };
    assert_eq!(
        run(&[
            "stat",
            "-c",
            "%F %n",
            "/copied",
            "/named/link",
            "/up",
            "/wild/link",
            "/passwd"
        ]),
        "regular file /copied\nregular file /named/link\nregular file /up\n\
         regular file /wild/link\nregular file /passwd\n"
    );
    assert_eq!(
        run(&["cat", "/copied", "/up", "/passwd"]),
        "real content\nreal content\nthe context's own\n"
    );
    assert_eq!(run(&["ls", "/from-dirlink"]), "inner.txt\nkeep\n");
    // Met inside a copied directory, a symlink is copied as one.
    for link in ["/dir/keep", "/from-dirlink/keep"] {
        assert_eq!(run(&["readlink", link]), "../real.txt\n");
    }

    // A symlink whose target is not in the context fails the build, in one line that names
    // it; the host's file it names is never read.
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret"), "host secret").unwrap();
    let host_secret = outer.path().join("secret");
    link(host_secret.to_str().unwrap(), "to-host");
    link("../../secret", "up-and-out");
    for source in ["to-host", "up-and-out"] {
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM busybox\nCOPY {source} /x\n"),
        )
        .unwrap();
        let err = k.fails(&["build", ctx.to_str().unwrap()], 1);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&format!("{source:?} is a symlink")), "{err}");
        assert!(err.contains("not in the build context"), "{err}");
    }
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn copy_and_add_make_missing_parents_owned_by_the_chown_user_and_leave_existing_ones_alone() {
    let k = Kist::with_busybox();
    // BuildKit makes the directories a COPY or ADD needs (0755, the --chown owner) and leaves
    // the ones there as they were; the destination directory itself is one of them.
    let dir = context(
        "FROM busybox\nRUN mkdir -m 0700 /existing && chown 5:6 /existing\n\
         COPY --chown=1000:1000 tool.sh /usr/local/bin/tool\n\
         COPY --chown=1000:1000 a.txt /existing/new/deeper/\n\
         COPY --chown=1000:1000 private /made/private\n\
         ADD --chown=nobody files.tar /added/here/\n\
         COPY a.txt /tmp\n",
        &[
            ("tool.sh", "#!/bin/sh\n"),
            ("a.txt", "a\n"),
            ("private/f", "f\n"),
        ],
    );
    std::fs::set_permissions(
        dir.path().join("private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let tarball = std::fs::File::create(dir.path().join("files.tar")).unwrap();
    let mut tar = tar::Builder::new(tarball);
    let mut header = tar::Header::new_gnu();
    header.set_size(2);
    header.set_mode(0o644);
    header.set_uid(7);
    header.set_gid(8);
    header.set_mtime(0);
    tar.append_data(&mut header, "in/file", &b"x\n"[..])
        .unwrap();
    tar.into_inner().unwrap();
    build(&k, "parents", dir.path());
    let stat = k.ok(&[
        "run",
        "--rm",
        "parents",
        "stat",
        "-c",
        "%u:%g %a %F %n",
        "/usr",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/bin/tool",
        "/existing",
        "/existing/new",
        "/existing/new/deeper",
        "/existing/new/deeper/a.txt",
        "/made",
        "/made/private",
        "/made/private/f",
        "/added",
        "/added/here",
        "/tmp",
        "/tmp/a.txt",
    ]);
    assert_eq!(
        stat,
        "0:0 755 directory /usr\n\
         1000:1000 755 directory /usr/local\n\
         1000:1000 755 directory /usr/local/bin\n\
         1000:1000 644 regular file /usr/local/bin/tool\n\
         5:6 700 directory /existing\n\
         1000:1000 755 directory /existing/new\n\
         1000:1000 755 directory /existing/new/deeper\n\
         1000:1000 644 regular file /existing/new/deeper/a.txt\n\
         1000:1000 755 directory /made\n\
         1000:1000 755 directory /made/private\n\
         1000:1000 644 regular file /made/private/f\n\
         65534:65534 755 directory /added\n\
         65534:65534 755 directory /added/here\n\
         0:0 1777 directory /tmp\n\
         0:0 644 regular file /tmp/a.txt\n"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn run_security_insecure_needs_allow_and_then_runs_privileged() {
    let k = Kist::with_busybox();
    // What the step reads: its capabilities and whether seccomp filters it (harmless).
    let probe = ["grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status"];
    let read = |extra: &[&str]| {
        let mut args = vec!["run", "--rm"];
        args.extend(extra);
        args.push("busybox");
        args.extend(probe);
        k.ok(&args)
    };
    let (privileged, sandboxed) = (read(&["--privileged"]), read(&[]));
    assert_ne!(privileged, sandboxed);
    let dir = context(
        "FROM busybox\n\
         RUN --security=insecure grep -E '^(CapEff|Seccomp):' /proc/self/status > /insecure\n\
         RUN --security=sandbox grep -E '^(CapEff|Seccomp):' /proc/self/status > /sandbox\n\
         RUN grep -E '^(CapEff|Seccomp):' /proc/self/status > /default\n",
        &[],
    );
    let path = dir.path().to_str().unwrap();
    // Without the entitlement the build fails in one line that says how to give it, and
    // runs nothing.
    let err = k.fails(&["build", "-t", "insecure", path], 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("pass --allow security.insecure"), "{err}");
    assert_eq!(k.ok(&["images", "-q"]).lines().count(), 1);
    k.assert_clean();
    k.ok(&[
        "build",
        "--allow",
        "security.insecure",
        "-t",
        "insecure",
        path,
    ]);
    let cat = |file: &str| k.ok(&["run", "--rm", "insecure", "cat", file]);
    assert_eq!(cat("/insecure"), privileged);
    assert_eq!(cat("/sandbox"), sandboxed);
    assert_eq!(cat("/default"), sandboxed);
    // An entitlement kist does not know is a bad flag.
    let err = k.fails(&["build", "--allow", "device", path], 125);
    assert!(err.contains("network.host or security.insecure"), "{err}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_failing_stage_cancels_the_stages_building_beside_it_and_leaves_nothing() {
    let k = Kist::with_busybox();
    // b's RUN marks, in a cache mount both stages share, that it runs, then sleeps; a waits
    // for the mark (20 s at most) and fails. b must be stopped, not run to its end.
    let sync = "--mount=type=cache,id=sync,target=/sync";
    let dir = context(
        &format!(
            "FROM busybox AS a\n\
             RUN {sync} i=0; while [ ! -e /sync/b-runs ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; exit 3\n\
             FROM busybox AS b\nENV B=1\nRUN {sync} touch /sync/b-runs && sleep 30\nRUN echo never > /never\n\
             FROM busybox\nCOPY --from=a /etc/hostname /a\nCOPY --from=b /never /b\n"
        ),
        &[],
    );
    let layers_before = k.entries("layers").len();
    let started = std::time::Instant::now();
    let err = k.fails(
        &["build", "-t", "cancelled", dir.path().to_str().unwrap()],
        1,
    );
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(15),
        "took {took:?}: {err}"
    );
    // The failing stage's error, not the cancelled one's.
    assert!(err.contains("exit code: 3"), "{err}");
    assert!(!err.contains("sleep 30"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // No container, mount, cgroup, step image or temporary file is left.
    k.assert_clean();
    let images = k.ok(&["images", "-q"]);
    assert_eq!(images.lines().count(), 1, "{images}");
    assert_eq!(k.entries("tmp"), Vec::<String>::new());
    // The layers made are the cache's alone (b's ENV made none): pruning it takes them all.
    k.ok(&["image", "prune", "-f"]);
    k.ok(&["builder", "prune", "-f"]);
    assert_eq!(k.entries("layers").len(), layers_before);
}

//! `--mount`, `--tmpfs`, `--shm-size`, `--volumes-from`, relative `-v` and `:z`, seen from
//! inside the container (its mountinfo, `df`) and in `inspect`.

mod common;
use common::*;

fn inspect(k: &Kist, name: &str) -> serde_json::Value {
    let out = k.ok(&["inspect", name]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()[0].clone()
}

/// The line of the container's /proc/self/mountinfo for mount point `at`.
fn mount_line<'a>(mountinfo: &'a str, at: &str) -> &'a str {
    mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(at))
        .unwrap_or_else(|| panic!("nothing mounted at {at} in:\n{mountinfo}"))
}

#[test]
#[ignore = "needs root"]
fn mount_flags_mount_what_docker_mounts() {
    let k = Kist::with_busybox();
    let host = k.path().join("src");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("f"), "from host\n").unwrap();
    let bind = format!("type=bind,source={},target=/b,readonly", host.display());
    let out = k.ok(&[
        "run",
        "--name",
        "mnt",
        "--mount",
        &bind,
        "--mount",
        "type=volume,src=cache,dst=/c,volume-nocopy",
        "--mount",
        "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
        "--tmpfs",
        "/run:size=2m,exec",
        "--shm-size",
        "128m",
        "busybox",
        "sh",
        "-c",
        "cat /b/f; touch /b/x || echo read-only; cat /proc/self/mountinfo; \
         df -k /t /run /dev/shm; stat -c %a /t",
    ]);
    assert!(out.starts_with("from host\nread-only\n"), "{out}");
    assert!(!host.join("x").exists());
    let t = mount_line(&out, "/t");
    assert!(t.contains(" - tmpfs ") && t.contains("size=1024k"), "{t}");
    assert!(t.contains("noexec") && t.contains("nosuid"), "{t}");
    let run = mount_line(&out, "/run");
    assert!(
        run.contains("size=2048k") && !run.contains("noexec"),
        "{run}"
    );
    assert!(
        mount_line(&out, "/b")
            .split(' ')
            .nth(5)
            .unwrap()
            .starts_with("ro")
    );
    let df: Vec<&str> = out.lines().filter(|l| l.contains('%')).collect();
    assert!(
        df.iter()
            .any(|l| l.contains(" 131072 ") && l.ends_with("/dev/shm")),
        "{df:?}"
    );
    assert!(
        df.iter().any(|l| l.contains(" 1024 ") && l.ends_with("/t")),
        "{df:?}"
    );
    assert!(out.ends_with("\n1770\n"), "tmpfs-mode: {out}");
    let c = inspect(&k, "mnt");
    let hc = &c["HostConfig"];
    assert_eq!(hc["ShmSize"], 128 << 20);
    assert_eq!(hc["Tmpfs"], serde_json::json!({"/run": "size=2m,exec"}));
    assert_eq!(hc["Binds"], serde_json::Value::Null, "--mount is not -v");
    assert_eq!(
        hc["Mounts"],
        serde_json::json!([
            {"Type": "bind", "Source": host, "Target": "/b", "ReadOnly": true},
            {"Type": "volume", "Source": "cache", "Target": "/c", "VolumeOptions": {"NoCopy": true}},
            {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 0o1770}},
        ])
    );
    let types: Vec<(&str, &str)> = c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Type"].as_str().unwrap(),
                m["Destination"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(types, [("bind", "/b"), ("volume", "/c"), ("tmpfs", "/t")]);
    let propagation: Vec<&str> = c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Propagation"].as_str().unwrap())
        .collect();
    assert_eq!(propagation, ["rprivate", "", ""]);
    k.ok(&["rm", "mnt"]);
    // volume-nocopy keeps a new volume over image content empty; without it, it is seeded.
    let seeded = k.ok(&[
        "run",
        "--rm",
        "--mount",
        "src=etc1,dst=/etc",
        "busybox",
        "ls",
        "/etc",
    ]);
    assert!(seeded.contains("passwd"), "{seeded}");
    let bare = k.ok(&[
        "run",
        "--rm",
        "--mount",
        "src=etc2,dst=/etc,volume-nocopy",
        "busybox",
        "ls",
        "/etc",
    ]);
    assert!(!bare.contains("passwd"), "{bare}");
}

#[test]
#[ignore = "needs root"]
fn relative_binds_are_taken_from_the_current_directory_and_z_is_warned_about_once() {
    let k = Kist::with_busybox();
    let here = k.path().join("here");
    std::fs::create_dir_all(here.join("data")).unwrap();
    std::fs::write(here.join("data/f"), "relative\n").unwrap();
    let out = k
        .command(&[
            "run",
            "--name",
            "rel",
            "-v",
            "./data:/d:z",
            "-v",
            "../here/data:/e:ro,Z",
            "busybox",
            "cat",
            "/d/f",
            "/e/f",
        ])
        .current_dir(&here)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "relative\nrelative\n");
    assert_eq!(
        stderr(&out),
        "kist: warning: :z/:Z ignored, this host has no SELinux\n"
    );
    let binds = inspect(&k, "rel")["HostConfig"]["Binds"].clone();
    let data = here.join("data");
    assert_eq!(
        binds,
        serde_json::json!([
            format!("{}:/d:z", data.display()),
            format!("{}:/e:ro,Z", data.display())
        ])
    );
}

#[test]
#[ignore = "needs root"]
fn bad_mount_flags_name_the_key_and_create_nothing() {
    let k = Kist::with_busybox();
    let missing = k.path().join("missing");
    let missing_bind = format!("type=bind,src={},dst=/x", missing.display());
    for (flag, value, says) in [
        ("--mount", "type=nfs,dst=/x", "\"nfs\""),
        (
            "--mount",
            "type=volume,src=v,dst=/x,volume-opt=type=nfs",
            "volume-opt",
        ),
        ("--mount", "type=bind,dst=/x", "source is required"),
        ("--mount", missing_bind.as_str(), "does not exist"),
        ("--mount", "type=tmpfs,dst=/x,tmpfs-size=lots", "tmpfs-size"),
        (
            "--mount",
            "type=volume,src=v,dst=/x,tmpfs-mode=700",
            "tmpfs-mode",
        ),
        ("--mount", "src=v,dst=/x,colour=blue", "\"colour\""),
        (
            "--mount",
            "type=bind,src=/,dst=/x,bind-propagation=rshared",
            "rshared",
        ),
        ("--tmpfs", "/x:size=lots", "size"),
        ("--tmpfs", "relative", "absolute"),
        ("--shm-size", "huge", "--shm-size"),
        ("--volumes-from", "nosuch", "no such container: nosuch"),
    ] {
        let err = k.fails(&["run", "--rm", flag, value, "busybox", "true"], 125);
        assert_eq!(err.lines().count(), 1, "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    // A path mounted twice, and a second volume named in the same run, make nothing either.
    let err = k.fails(
        &[
            "run", "--rm", "-v", "v1:/x", "--tmpfs", "/x", "busybox", "true",
        ],
        125,
    );
    assert!(err.contains("duplicate mount point: /x"), "{err}");
    assert!(!missing.exists());
    assert_eq!(k.ok(&["volume", "ls", "-q"]), "");
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn volumes_from_mounts_another_containers_volumes() {
    let k = Kist::with_busybox();
    let host = k.path().join("h");
    std::fs::create_dir(&host).unwrap();
    let bind = format!("{}:/h", host.display());
    k.ok(&[
        "run",
        "--name",
        "donor",
        "-v",
        "/anon",
        "-v",
        "named:/named",
        "-v",
        &bind,
        "busybox",
        "sh",
        "-c",
        "echo a > /anon/f; echo n > /named/f; echo h > /h/f",
    ]);
    let out = k.ok(&[
        "run",
        "--name",
        "user",
        "--volumes-from",
        "donor",
        "busybox",
        "sh",
        "-c",
        "cat /anon/f /named/f /h/f; echo more > /anon/g",
    ]);
    assert_eq!(out, "a\nn\nh\n");
    let ro = k.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "donor:ro",
        "busybox",
        "sh",
        "-c",
        "cat /anon/g; touch /named/x",
    ]);
    assert_eq!(stdout(&ro), "more\n");
    assert!(
        stderr(&ro).contains("Read-only file system"),
        "{}",
        stderr(&ro)
    );
    assert_ne!(ro.status.code(), Some(0));
    let hc = inspect(&k, "user")["HostConfig"].clone();
    assert_eq!(hc["VolumesFrom"], serde_json::json!(["donor"]));
    // The same two volumes, no new ones.
    assert_eq!(k.ok(&["volume", "ls", "-q"]).lines().count(), 2);
}

#[test]
#[ignore = "needs root"]
fn a_users_mount_over_a_generated_etc_file_wins() {
    let k = Kist::with_busybox();
    let file = k.path().join("my-hostname");
    std::fs::write(&file, "mine\n").unwrap();
    let mount = format!("type=bind,src={},dst=/etc/hostname", file.display());
    let out = k.ok(&[
        "run",
        "--name",
        "own-etc",
        "--mount",
        &mount,
        "busybox",
        "cat",
        "/etc/hostname",
    ]);
    assert_eq!(out, "mine\n");
    let out = k.ok(&["inspect", "own-etc"]);
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mounts = c[0]["Mounts"].as_array().unwrap().clone();
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert_eq!(mounts[0]["Destination"], "/etc/hostname");
    assert_eq!(mounts[0]["Source"], file.display().to_string());
}

#[test]
#[ignore = "needs root"]
fn a_mount_value_is_csv_so_a_quoted_source_may_hold_a_comma() {
    let k = Kist::with_busybox();
    let dir = k.path().join("with,comma");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("f"), "quoted\n").unwrap();
    let mount = format!("type=bind,\"source={}\",target=/q", dir.display());
    let out = k.ok(&["run", "--rm", "--mount", &mount, "busybox", "cat", "/q/f"]);
    assert_eq!(out, "quoted\n");
}

#[test]
#[ignore = "needs root"]
fn a_bind_keeps_the_propagation_asked_for() {
    let k = Kist::with_busybox();
    let dir = k.path().join("p");
    std::fs::create_dir(&dir).unwrap();
    let mount = format!(
        "type=bind,src={},dst=/p,bind-propagation=rslave",
        dir.display()
    );
    let out = k.ok(&[
        "run",
        "--name",
        "slave",
        "--mount",
        &mount,
        "-v",
        &format!("{}:/q:private", dir.display()),
        "busybox",
        "cat",
        "/proc/self/mountinfo",
    ]);
    // Both are mounted (rslave makes the container's copy of the host's mounts their slaves;
    // what that shows depends on the host's own propagation, so it is not checked here).
    mount_line(&out, "/q");
    mount_line(&out, "/p");
    let c = inspect(&k, "slave");
    let propagation: Vec<&str> = c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Propagation"].as_str().unwrap())
        .collect();
    assert_eq!(propagation, ["private", "rslave"]);
    assert_eq!(
        c["HostConfig"]["Mounts"][0]["BindOptions"]["Propagation"],
        "rslave"
    );
}

//! `kist version` and `kist info`: Docker's layouts and field names.

mod common;

use common::{Kist, wait_until};

#[test]
#[ignore = "needs root"]
fn version_has_docker_s_client_section() {
    let k = Kist::new();
    let text = k.ok(&["version"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Client:", "{text}");
    assert_eq!(
        lines[1],
        format!(" Version:           {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(lines[2].starts_with(" Git commit:        "), "{text}");
    assert!(text.contains(" OCI runtime spec:  1.2.0\n"), "{text}");
    assert!(text.contains(" OS/Arch:           linux/amd64\n"), "{text}");
    assert_eq!(
        k.ok(&["version", "--format", "{{.Client.Version}}"]),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
#[ignore = "needs root"]
fn info_counts_containers_and_images() {
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "60"]);
    k.ok(&["run", "--name", "done", "busybox", "true"]);
    k.ok(&["run", "-d", "--name", "frozen", "busybox", "sleep", "60"]);
    k.ok(&["pause", "frozen"]);
    k.ok(&["tag", "busybox", "another:name"]);
    let counts = "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}}";
    assert_eq!(k.ok(&["info", "--format", counts]), "3 1 1 1 1\n");
    let text = k.ok(&["system", "info"]);
    for line in [
        " Containers: 3",
        "  Running: 1",
        "  Paused: 1",
        "  Stopped: 1",
        " Images: 1",
        " Storage Driver: overlay2",
        " Cgroup Driver: cgroupfs",
        " Default Runtime: kist",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    let root = format!(" Kist Root Dir: {}", k.path().display());
    assert!(text.lines().any(|l| l == root), "{text}");
    assert!(text.contains("  Backing Filesystem: "), "{text}");
    let json = k.ok(&["info", "--format", "{{json .}}"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["ServerVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["NCPU"],
        std::thread::available_parallelism().unwrap().get()
    );
    k.ok(&["rm", "-f", "up", "done", "frozen"]);
    wait_until("containers gone", || k.ok(&["ps", "-aq"]).is_empty());
    k.assert_clean();
}

//! Kubernetes' path: containerd's CRI plugin runs a pod sandbox and a container in it through
//! kist-runtime, registered as the runtime handler `kist`, with a CNI bridge. A private
//! containerd (own root, state and socket in a temp dir) runs in a network and mount
//! namespace of the test's own (the bridge and veths live and die there), and is stopped by
//! its pid, its shims too. The CRI API is called with the small client in `cri/grpc.rs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "cri/grpc.rs"]
mod grpc;

use common::{BIN, assert_root, busybox_tar};
use grpc::{Client, Fields, Msg};

const RUNTIME: &str = "/runtime.v1.RuntimeService/";
/// The sandbox ("pause") image: the busybox root filesystem sleeping.
const PAUSE: &str = "localhost/kist-pause:1";
const SUBNET: &str = "10.231.0";

struct Cri {
    dir: tempfile::TempDir,
    /// `unshare --kill-child`: its death takes containerd with it.
    daemon: Child,
    /// The pods' cgroup parent (absolute: each pod's cgroups go below it).
    cgroup_parent: String,
}

impl Cri {
    fn start() -> Cri {
        assert_root();
        for tool in [
            "/usr/bin/containerd",
            "/usr/bin/ctr",
            "/usr/bin/containerd-shim-runc-v2",
            "/usr/lib/cni/bridge",
            "/usr/lib/cni/host-local",
            "/usr/lib/cni/loopback",
        ] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: apt-get install containerd containernetworking-plugins"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        std::fs::create_dir_all(dir.path().join("cni")).unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        let conflist = serde_json::json!({
            "cniVersion": "1.0.0", "name": "kist-cri-test",
            "plugins": [{"type": "bridge", "bridge": "kcri0", "isGateway": true, "ipMasq": false,
                "ipam": {"type": "host-local", "dataDir": format!("{d}/ipam"),
                         "ranges": [[{"subnet": format!("{SUBNET}.0/24")}]]}}]
        });
        std::fs::write(
            dir.path().join("cni/10-kist.conflist"),
            conflist.to_string(),
        )
        .unwrap();
        // restrict_oom_score_adj: the sandbox's -998 needs CAP_SYS_RESOURCE, which a
        // container host may lack; containerd then keeps no lower than its own.
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/c.sock"
[ttrpc]
  address = "{d}/c.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE}"
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "kist"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kist]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kist.options]
      BinaryName = "{BIN}"
      Root = "{d}/kr"
"#
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("containerd.log")).unwrap();
        let daemon = Command::new("unshare")
            .args(["--net", "--mount", "--kill-child", "sh", "-c"])
            .arg(format!(
                "ip link set lo up && exec containerd --config {d}/config.toml"
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let cgroup_parent = format!("/kist-cri-test-{}", std::process::id());
        let cri = Cri {
            dir,
            daemon,
            cgroup_parent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = Client::connect(&cri.socket())
                .ok()
                .and_then(|mut c| c.call(&format!("{RUNTIME}Version"), &Msg::new()).ok());
            if up.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "containerd did not come up: {}",
                cri.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cri
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("c.sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    /// kist-runtime's root for containerd's `k8s.io` namespace (the shim adds it to Root).
    fn runtime_root(&self) -> PathBuf {
        self.dir.path().join("kr/k8s.io")
    }

    fn kist_runtime(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .arg("--root")
            .arg(self.runtime_root())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kist-runtime {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A CRI call that must succeed; containerd's log says why when it does not.
    fn call(&self, client: &mut Client, method: &str, request: &Msg) -> Fields {
        client
            .call(&format!("{RUNTIME}{method}"), request)
            .unwrap_or_else(|e| panic!("{e}\ncontainerd's log:\n{}", self.log()))
    }

    /// The sandbox image as an OCI archive (the busybox tarball as its one layer), imported
    /// into the CRI plugin's namespace.
    fn import_pause_image(&self) {
        let layout = self.dir.path().join("pause");
        let blobs = layout.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |bytes: &[u8]| -> serde_json::Value {
            let path = self.dir.path().join("blob");
            std::fs::write(&path, bytes).unwrap();
            let out = Command::new("sha256sum").arg(&path).output().unwrap();
            let hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
            std::fs::rename(&path, blobs.join(&hex)).unwrap();
            serde_json::json!({"digest": format!("sha256:{hex}"), "size": bytes.len()})
        };
        let layer = put(&std::fs::read(busybox_tar()).unwrap());
        let config = put(serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["sleep", "3600"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
        })
        .to_string()
        .as_bytes());
        let with_type = |mut d: serde_json::Value, t: &str| {
            d["mediaType"] = t.into();
            d
        };
        let manifest = put(serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": with_type(config, "application/vnd.oci.image.config.v1+json"),
            "layers": [with_type(layer, "application/vnd.oci.image.layer.v1.tar")],
        })
        .to_string()
        .as_bytes());
        let mut entry = with_type(manifest, "application/vnd.oci.image.manifest.v1+json");
        entry["annotations"] = serde_json::json!({"io.containerd.image.name": PAUSE});
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [entry]});
        std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
        std::fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let archive = self.dir.path().join("pause.tar");
        let tar = Command::new("tar")
            .arg("-cf")
            .arg(&archive)
            .arg("-C")
            .arg(&layout)
            .args(["oci-layout", "index.json", "blobs"])
            .status()
            .unwrap();
        assert!(tar.success());
        let out = Command::new("ctr")
            .arg("-a")
            .arg(self.socket())
            .args(["-n", "k8s.io", "image", "import"])
            .arg(&archive)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ctr image import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The pod cgroups' directories that exist, deepest first.
    fn cgroups_left(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for top in kist_runtime::Cgroup::resolve(&self.cgroup_parent)
            .unwrap()
            .dirs()
        {
            collect_dirs(top, &mut found);
        }
        found.reverse();
        found
    }
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if !dir.is_dir() {
        return;
    }
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_dirs(&e.path(), out);
        }
    }
}

impl Drop for Cri {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // Shims outlive the daemon: those of this test (their command line names its
        // directory) are ended by pid, then whatever containers are left.
        let me = self.dir.path().to_string_lossy().into_owned();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.starts_with("/usr/bin/containerd-shim-runc-v2") && cmdline.contains(&me) {
                // SAFETY: kill with a pid and a signal.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        for e in std::fs::read_dir(self.runtime_root())
            .into_iter()
            .flatten()
            .flatten()
        {
            let id = e.file_name().to_string_lossy().into_owned();
            let _ = Command::new(BIN)
                .arg("--root")
                .arg(self.runtime_root())
                .args(["delete", "--force", &id])
                .output();
        }
        for d in self.cgroups_left() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn pod_config(cri: &Cri) -> Msg {
    let metadata = Msg::new().str(1, "pod1").str(2, "uid-1").str(3, "default");
    let logs = cri.dir.path().join("logs");
    Msg::new()
        .msg(1, metadata)
        .str(2, "pod1")
        .str(3, logs.to_str().unwrap())
        .msg(8, Msg::new().str(1, &cri.cgroup_parent))
}

/// RunPodSandbox with the `kist` handler: the sandbox is ready with an address from the CNI
/// bridge and runs under kist-runtime; a container in the pod shares its network, UTS and PID
/// namespaces, its output reaches the CRI log, ExecSync runs in it, StopContainer ends it
/// with SIGTERM's status; after the removals, kist-runtime has no container and no cgroup is
/// left.
#[test]
#[ignore = "needs root"]
fn a_pod_sandbox_and_its_container_run_through_the_cri_plugin() {
    let cri = Cri::start();
    cri.import_pause_image();
    let mut c = Client::connect(&cri.socket()).unwrap();

    let pod = cri
        .call(
            &mut c,
            "RunPodSandbox",
            &Msg::new().msg(1, pod_config(&cri)).str(2, "kist"),
        )
        .str(1);
    assert!(!pod.is_empty());
    let status = cri
        .call(&mut c, "PodSandboxStatus", &Msg::new().str(1, &pod))
        .msg(1);
    assert_eq!(status.int(3), 0, "the sandbox is not SANDBOX_READY");
    let ip = status.msg(5).str(1);
    assert!(ip.starts_with(SUBNET), "sandbox address {ip:?}");
    assert_eq!(status.str(9), "kist");
    let state: serde_json::Value =
        serde_json::from_str(&cri.kist_runtime(&["state", &pod])).unwrap();
    assert_eq!(state["status"], "running", "kist-runtime's view: {state}");

    let config = Msg::new()
        .msg(1, Msg::new().str(1, "c1"))
        .msg(2, Msg::new().str(1, PAUSE))
        .str(3, "sh")
        .str(3, "-c")
        .str(
            3,
            "hostname; ip -4 addr show eth0; echo done; exec sleep 300",
        )
        .str(11, "c1.log");
    let ctr = cri
        .call(
            &mut c,
            "CreateContainer",
            &Msg::new()
                .str(1, &pod)
                .msg(2, config)
                .msg(3, pod_config(&cri)),
        )
        .str(1);
    cri.call(&mut c, "StartContainer", &Msg::new().str(1, &ctr));
    let exec = cri.call(
        &mut c,
        "ExecSync",
        &Msg::new()
            .str(1, &ctr)
            .str(2, "cat")
            .str(2, "/proc/1/cmdline")
            .int(3, 10),
    );
    assert_eq!(exec.int(3), 0, "ExecSync's exit code");
    assert_eq!(
        exec.str(1),
        "sleep\u{0}3600\u{0}",
        "PID 1 is not the sandbox's: the pod's PID namespace is not shared"
    );
    let log = cri.dir.path().join("logs/c1.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("done") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(text.contains("stdout F pod1"), "{text}");
    assert!(text.contains(&format!("inet {ip}/24")), "{text}");

    cri.call(&mut c, "StopContainer", &Msg::new().str(1, &ctr).int(2, 2));
    let status = cri
        .call(&mut c, "ContainerStatus", &Msg::new().str(1, &ctr))
        .msg(1);
    assert_eq!(status.int(3), 2, "the container is not CONTAINER_EXITED");
    assert_eq!(status.int(7), 143, "exit code after SIGTERM");
    cri.call(&mut c, "RemoveContainer", &Msg::new().str(1, &ctr));
    cri.call(&mut c, "StopPodSandbox", &Msg::new().str(1, &pod));
    cri.call(&mut c, "RemovePodSandbox", &Msg::new().str(1, &pod));
    let list: serde_json::Value =
        serde_json::from_str(&cri.kist_runtime(&["list", "--format", "json"])).unwrap();
    assert!(
        list.as_array().is_none_or(|l| l.is_empty()),
        "kist-runtime still has {list}"
    );
    let left: Vec<_> = cri
        .cgroups_left()
        .into_iter()
        .filter(|d| !d.ends_with(cri.cgroup_parent.trim_start_matches('/')))
        .collect();
    assert_eq!(left, Vec::<PathBuf>::new(), "pod cgroups left");
}

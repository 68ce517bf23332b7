//! `kist pull`, `push`, `login`, `logout` against a real registry (Debian's docker-registry,
//! one per test on a free loopback port), with images also written by skopeo.

mod common;
use common::*;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::Digest as _;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A registry serving from its own directory; killed (by pid) and removed on drop.
struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
}

impl Registry {
    fn start() -> Registry {
        Registry::spawn(None)
    }

    /// A registry that wants `user`/`password` (htpasswd, basic auth).
    fn with_login(user: &str, password: &str) -> Registry {
        Registry::spawn(Some((user, password)))
    }

    fn spawn(login: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("kist-registry-")
            .tempdir()
            .unwrap();
        let mut auth = String::new();
        if let Some((user, password)) = login {
            let htpasswd = dir.path().join("htpasswd");
            let hash = bcrypt::hash(password, 4).unwrap();
            fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                htpasswd.display()
            );
        }
        // A free port can be taken between our probe and the registry's bind: try again.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = dir.path().join("config.yml");
            fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
                    dir.path().join("data").display()
                ),
            )
            .unwrap();
            let log = fs::File::create(dir.path().join("log")).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("docker-registry (apt-get install docker-registry)");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if v2_answers(port) {
                    return Registry {
                        child,
                        dir,
                        host: format!("127.0.0.1:{port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "docker-registry did not start: {}",
            fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
    }

    /// Where the registry keeps a blob's bytes.
    fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    fn put_manifest(&self, repo: &str, tag: &str, media_type: &str, body: &[u8]) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .put(&format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .header("Content-Type", media_type)
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "{text}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn v2_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && (head.ends_with(b" 200") || head.ends_with(b" 401"))
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A tar of `entries`: (path, Some(content)) files, (path, None) directories.
fn tar_of(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        match content {
            Some(c) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(c.len() as u64);
                b.append_data(&mut h, path, *c).unwrap();
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, path, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn compress(tar: &[u8], how: &str) -> (Vec<u8>, &'static str) {
    match how {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            (
                e.finish().unwrap(),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        }
        "zstd" => (
            zstd::encode_all(tar, 1).unwrap(),
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ),
        _ => (tar.to_vec(), "application/vnd.oci.image.layer.v1.tar"),
    }
}

/// Writes an OCI image layout at `dir` with one image, tagged `v1`, of `layers` (a tar and
/// how to compress it); returns the manifest's digest.
fn oci_layout(dir: &Path, layers: &[(Vec<u8>, &str)], arch: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha256(bytes);
        fs::write(blobs.join(d.trim_start_matches("sha256:")), bytes).unwrap();
        d
    };
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (tar, how) in layers {
        let (blob, media_type) = compress(tar, how);
        diff_ids.push(sha256(tar));
        descriptors
            .push(json!({"mediaType": media_type, "digest": put(&blob), "size": blob.len()}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&config), "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    let digest = put(&manifest);
    fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))
        .unwrap(),
    )
    .unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digest
}

/// Copies the OCI layout at `dir` to `dest` (a docker:// reference) with skopeo.
fn skopeo_copy(dir: &Path, dest: &str, extra: &[&str]) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "-q", "--dest-tls-verify=false"])
        .args(extra)
        .arg(format!("oci:{}:v1", dir.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo (apt-get install skopeo)");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn busybox_layer() -> Vec<u8> {
    fs::read(busybox_tar()).unwrap()
}

/// What a failed command must not leave: temporary work (lock files may stay), images, layers
/// or blobs that were not there before.
struct Snapshot(Vec<String>, Vec<String>, Vec<String>);

fn snapshot(k: &Kist) -> Snapshot {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    Snapshot(
        sorted(k.ok(&["images", "-q"]).lines().map(String::from).collect()),
        sorted(k.entries("layers")),
        sorted(k.entries("images/blobs/sha256")),
    )
}

fn assert_unchanged(k: &Kist, before: &Snapshot, what: &str) {
    let left: Vec<String> = k
        .entries("tmp")
        .into_iter()
        .filter(|e| !e.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{what}: left in tmp: {left:?}");
    let after = snapshot(k);
    assert_eq!(after.0, before.0, "{what}: images changed");
    assert_eq!(after.1, before.1, "{what}: layers changed");
    assert_eq!(after.2, before.2, "{what}: blobs changed");
}

fn one_line(stderr: &str) -> &str {
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr:?}");
    stderr.trim_end()
}

#[test]
#[ignore = "needs root"]
fn push_then_pull_into_a_fresh_root_runs() {
    let reg = Registry::start();
    let name = format!("{}/busybox:v1", reg.host);
    let k = Kist::new();
    k.ok(&["import", busybox_tar().to_str().unwrap(), &name]);
    let out = k.ok(&["push", &name]);
    assert!(out.contains(": Pushed"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("v1: digest: sha256:") && last.contains(" size: "),
        "{out}"
    );
    let out = k.ok(&["push", &name]);
    assert!(out.contains(": Layer already exists"), "{out}");

    let fresh = Kist::new();
    let out = fresh.ok(&["pull", &name]);
    assert!(out.contains(": Pull complete"), "{out}");
    assert!(out.contains("Digest: sha256:"), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}")),
        "{out}"
    );
    assert_eq!(out.lines().last().unwrap(), name);
    assert_eq!(fresh.ok(&["run", "--rm", &name, "echo", "hi"]), "hi\n");
    let pulls = [
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "event=pull",
    ];
    let pulled = fresh.ok(&[&pulls[..], &["--format", "{{.Actor.ID}}"]].concat());
    assert_eq!(pulled, format!("{name}\n"), "a pull event");
    // The same digests as the registry's: what was pushed is what was pulled.
    let digest = |s: &str| {
        s.lines()
            .find_map(|l| l.split("digest: ").nth(1))
            .map(|d| d.split(' ').next().unwrap().to_string())
    };
    let pushed = digest(&k.ok(&["push", &name])).unwrap();
    let repo_digests = fresh.ok(&["image", "inspect", "-f", "{{.RepoDigests}}", &name]);
    assert!(
        repo_digests.contains(&format!("{}/busybox@{pushed}", reg.host)),
        "{repo_digests}"
    );
    let again = fresh.ok(&["image", "pull", &name]);
    assert!(again.contains("Status: Image is up to date"), "{again}");
    assert!(again.contains(&format!("Digest: {pushed}")), "{again}");
    assert_eq!(fresh.ok(&["pull", "-q", &name]), format!("{name}\n"));
    let by_digest = format!("{}/busybox@{pushed}", reg.host);
    fresh.ok(&["pull", "-q", &by_digest]);
    assert!(fresh.entries("tmp").iter().all(|e| e.ends_with(".lock")));
    fresh.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn basic_auth_needs_a_login_that_is_checked_and_kept_private() {
    let reg = Registry::with_login("alice", "s3cret");
    let name = format!("{}/busybox:v1", reg.host);
    let k = Kist::new();
    k.ok(&["import", busybox_tar().to_str().unwrap(), &name]);
    let before = snapshot(&k);

    let err = k.fails(&["push", &name], 1);
    assert!(
        one_line(&err).contains(&format!("kist login {}", reg.host)),
        "{err}"
    );
    let out = k.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"wrong\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("wrong username or password"),
        "{}",
        stderr(&out)
    );
    assert!(!k.path().join("auth.json").exists());

    let out = k.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"s3cret\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Login Succeeded\n");
    let mode = fs::metadata(k.path().join("auth.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    k.ok(&["push", &name]);

    let other = Kist::new();
    let before_other = snapshot(&other);
    let err = other.fails(&["pull", &name], 1);
    assert!(one_line(&err).contains("kist login"), "{err}");
    assert_unchanged(&other, &before_other, "pull before login");

    assert_eq!(
        k.ok(&["logout", &reg.host]),
        format!("Removing login credentials for {}\n", reg.host)
    );
    assert!(!k.path().join("auth.json").exists());
    k.fails(&["pull", &name], 1);
    assert_unchanged(&k, &before, "pull after logout");

    let out = other.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"s3cret",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    other.ok(&["pull", &name]);
    assert_eq!(other.ok(&["run", "--rm", &name, "echo", "in"]), "in\n");
}

#[test]
#[ignore = "needs root"]
fn skopeo_layers_plain_gzip_and_zstd_with_a_whiteout() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    let data = tar_of(&[
        ("data", None),
        ("data/a", Some(b"first\n")),
        ("data/b", Some(b"second\n")),
    ]);
    let delete = tar_of(&[
        ("data", None),
        ("data/.wh.a", Some(b"")),
        ("data/c", Some(b"third\n")),
    ]);
    oci_layout(
        layout.path(),
        &[(busybox_layer(), "plain"), (data, "gzip"), (delete, "zstd")],
        "amd64",
    );
    let name = format!("{}/layered:v1", reg.host);
    skopeo_copy(layout.path(), &name, &[]);

    let k = Kist::new();
    let out = k.ok(&["pull", &name]);
    assert_eq!(out.matches(": Pull complete").count(), 3, "{out}");
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            &name,
            "sh",
            "-c",
            "ls /data; cat /data/b /data/c"
        ]),
        "b\nc\nsecond\nthird\n"
    );
}

#[test]
#[ignore = "needs root"]
fn docker_schema2_manifests_pull_and_run() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    let extra = tar_of(&[("etc/motd", Some(b"schema 2\n"))]);
    oci_layout(
        layout.path(),
        &[(busybox_layer(), "gzip"), (extra, "gzip")],
        "amd64",
    );
    let name = format!("{}/v2s2:v1", reg.host);
    skopeo_copy(layout.path(), &name, &["--format", "v2s2"]);

    let k = Kist::new();
    k.ok(&["pull", &name]);
    let manifest_type = k.ok(&["images"]);
    assert!(manifest_type.contains("/v2s2"), "{manifest_type}");
    assert_eq!(
        k.ok(&["run", "--rm", &name, "cat", "/etc/motd"]),
        "schema 2\n"
    );
}

#[test]
#[ignore = "needs root"]
fn concurrent_pulls_of_images_sharing_a_base_layer_fetch_it_once() {
    let reg = Registry::start();
    let base = tempfile::tempdir().unwrap();
    oci_layout(base.path(), &[(busybox_layer(), "gzip")], "amd64");
    let (a, b) = (format!("{}/a:v1", reg.host), format!("{}/b:v1", reg.host));
    skopeo_copy(base.path(), &a, &[]);
    let upper = tempfile::tempdir().unwrap();
    let extra = tar_of(&[("b-was-here", Some(b"b\n"))]);
    oci_layout(
        upper.path(),
        &[(busybox_layer(), "gzip"), (extra, "gzip")],
        "amd64",
    );
    skopeo_copy(upper.path(), &b, &[]);

    let k = Kist::new();
    let spawn = |name: &str| {
        k.command(&["pull", name])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    assert!(oa.status.success(), "{}", stderr(&oa));
    assert!(ob.status.success(), "{}", stderr(&ob));
    let base_layer = fs::read_dir(base.path().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.metadata().unwrap().len() > 100_000)
        .unwrap()
        .file_name()
        .to_string_lossy()[..12]
        .to_string();
    let both = format!("{}{}", stdout(&oa), stdout(&ob));
    assert_eq!(
        both.matches(&format!("{base_layer}: Pull complete"))
            .count(),
        1,
        "the shared layer was fetched more than once:\n{both}"
    );
    // The other pull waited for it, then found it in the store.
    assert_eq!(
        both.matches(&format!("{base_layer}: Already exists"))
            .count(),
        1,
        "{both}"
    );
    assert_eq!(k.entries("layers").len(), 2);
    assert_eq!(k.ok(&["run", "--rm", &a, "echo", "a"]), "a\n");
    assert_eq!(k.ok(&["run", "--rm", &b, "cat", "/b-was-here"]), "b\n");
}

#[test]
#[ignore = "needs root"]
fn bad_pulls_say_why_and_store_nothing() {
    let reg = Registry::start();
    let k = Kist::new();
    let before = snapshot(&k);

    // Nothing listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = k.fails(&["pull", &format!("127.0.0.1:{port}/x:v1")], 1);
    assert!(
        one_line(&err).contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_unchanged(&k, &before, "registry down");
    // A name that does not resolve (.invalid never does) is unreachable, not "not HTTPS".
    let err = k.fails(&["pull", "nosuchhost.invalid/x:v1"], 1);
    assert!(
        one_line(&err).contains("cannot reach the registry at nosuchhost.invalid"),
        "{err}"
    );

    // An unknown tag, and an unknown repository.
    let pusher = Kist::new();
    let name = format!("{}/busybox:v1", reg.host);
    pusher.ok(&["import", busybox_tar().to_str().unwrap(), &name]);
    pusher.ok(&["push", &name]);
    let err = k.fails(&["pull", &format!("{}/busybox:nope", reg.host)], 1);
    assert!(
        one_line(&err).contains(&format!("{}/busybox:nope not found", reg.host)),
        "{err}"
    );
    let err = k.fails(&["pull", &format!("{}/nothing", reg.host)], 1);
    assert!(one_line(&err).contains("nothing:latest"), "{err}");
    assert_unchanged(&k, &before, "unknown tag");

    // A manifest list with only another platform.
    let out = pusher.ok(&["push", &name]);
    let (digest, size) = {
        let l = out.lines().last().unwrap();
        let d = l
            .split("digest: ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        (
            d.to_string(),
            l.rsplit(' ').next().unwrap().parse::<u64>().unwrap(),
        )
    };
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}))
    .unwrap();
    reg.put_manifest("busybox", "armonly", OCI_INDEX, &index);
    let err = k.fails(&["pull", &format!("{}/busybox:armonly", reg.host)], 1);
    assert!(
        one_line(&err).contains("linux/amd64") && err.contains("available: linux/arm64/v8"),
        "{err}"
    );
    assert_unchanged(&k, &before, "other platform");
    k.ok(&[
        "pull",
        "--platform",
        "linux/arm64",
        &format!("{}/busybox:armonly", reg.host),
    ]);

    // A layer whose bytes are not those of its digest: the registry's copy is altered.
    let k = Kist::new();
    let before = snapshot(&k);
    let layer = tar_of(&[("greeting", Some(b"hello world\n"))]);
    let tar = pusher.path().join("greeting.tar");
    fs::write(&tar, &layer).unwrap();
    let bad = format!("{}/tampered:v1", reg.host);
    // kist stores and pushes an uncompressed layer as it is (skopeo would compress it).
    pusher.ok(&["import", tar.to_str().unwrap(), &bad]);
    pusher.ok(&["push", &bad]);
    let data = reg.blob_data(&sha256(&layer));
    let tampered = String::from_utf8_lossy(&fs::read(&data).unwrap())
        .replace("hello world", "HELLO WORLD")
        .into_bytes();
    assert_eq!(tampered.len(), layer.len());
    fs::write(&data, tampered).unwrap();
    let err = k.fails(&["pull", &bad], 1);
    assert!(
        one_line(&err).contains("does not match its digest") && err.contains(&sha256(&layer)),
        "{err}"
    );
    assert_unchanged(&k, &before, "digest mismatch");
}

#[test]
#[ignore = "needs root"]
fn a_layer_that_climbs_out_of_its_root_stays_inside() {
    let reg = Registry::start();
    let escape = tempfile::tempdir().unwrap();
    let target = escape.path().join("escaped");
    // Raw headers: the tar crate's builder refuses such names itself.
    let mut b = tar::Builder::new(Vec::new());
    let climb = format!("../../../../../../../../..{}", target.display());
    for (name, kind, link) in [
        (climb.as_str(), tar::EntryType::Regular, None),
        ("up", tar::EntryType::Symlink, Some(escape.path())),
        ("up/via-link", tar::EntryType::Regular, None),
    ] {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        if let Some(l) = link {
            let l = l.to_str().unwrap();
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        let body: &[u8] = if link.is_some() { b"" } else { b"escaped\n" };
        h.set_size(body.len() as u64);
        h.set_cksum();
        b.append(&h, body).unwrap();
    }
    let layer = b.into_inner().unwrap();
    let layout = tempfile::tempdir().unwrap();
    oci_layout(layout.path(), &[(layer, "gzip")], "amd64");
    let name = format!("{}/climber:v1", reg.host);
    skopeo_copy(layout.path(), &name, &[]);

    let k = Kist::new();
    let out = k.run(&["pull", &name]);
    if !out.status.success() {
        one_line(&stderr(&out));
    }
    assert!(!target.exists(), "a layer wrote outside its root");
    assert!(!escape.path().join("via-link").exists());
    if out.status.success() {
        // Kept inside: `..` stops at the layer's root, the symlink resolves inside it.
        let layer = k
            .path()
            .join("layers")
            .join(&k.entries("layers")[0])
            .join("diff");
        let inside = layer.join(target.strip_prefix("/").unwrap());
        assert_eq!(fs::read(inside).unwrap(), b"escaped\n");
    }
}

/// A token-auth front for a registry, as Docker Hub's: requests without the bearer token get a
/// challenge naming the realm; the realm gives the token to alice:s3cret (and records the
/// scopes asked); the rest goes to the registry behind.
struct TokenFront {
    host: String,
    scopes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

const TOKEN: &str = "tok-1234";
const ALICE_BASIC: &str = "Basic YWxpY2U6czNjcmV0";

impl TokenFront {
    fn start(backend: &Registry) -> TokenFront {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let scopes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (front, back, seen) = (host.clone(), backend.host.clone(), scopes.clone());
        // Serves until the test process ends; each connection is one request.
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (front, back, seen) = (front.clone(), back.clone(), seen.clone());
                std::thread::spawn(move || TokenFront::serve(conn, &front, &back, &seen));
            }
        });
        TokenFront { host, scopes }
    }

    fn serve(
        conn: TcpStream,
        front: &str,
        back: &str,
        seen: &std::sync::Mutex<Vec<String>>,
    ) -> Option<()> {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(conn.try_clone().ok()?);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let header = |name: &str| {
            head.iter().skip(1).find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let path = head.first()?.split(' ').nth(1)?.to_string();
        let mut out = conn;
        if let Some(query) = path.strip_prefix("/token?") {
            let scope = query
                .split('&')
                .find_map(|p| p.strip_prefix("scope="))
                .unwrap_or("");
            seen.lock().unwrap().push(
                scope
                    .replace("%3A", ":")
                    .replace("%2C", ",")
                    .replace("%2F", "/"),
            );
            let reply = if header("authorization").as_deref() == Some(ALICE_BASIC) {
                let body = format!(r#"{{"token":"{TOKEN}"}}"#);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            return out.write_all(reply.as_bytes()).ok();
        }
        if header("authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
            let body =
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            let reply = format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://{front}/token\",service=\"front\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return out.write_all(reply.as_bytes()).ok();
        }
        let length: usize = header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        let mut upstream = TcpStream::connect(back).ok()?;
        let mut request = format!("{}\r\n", head[0]);
        for h in head.iter().skip(1) {
            let name = h.split(':').next().unwrap_or("").to_ascii_lowercase();
            if !["authorization", "connection"].contains(&name.as_str()) {
                request.push_str(&format!("{h}\r\n"));
            }
        }
        request.push_str("Connection: close\r\n\r\n");
        upstream.write_all(request.as_bytes()).ok()?;
        upstream.write_all(&body).ok()?;
        std::io::copy(&mut upstream, &mut out).ok()?;
        Some(())
    }
}

#[test]
#[ignore = "needs root"]
fn bearer_tokens_from_the_challenge_realm_for_push_and_pull() {
    let reg = Registry::start();
    let front = TokenFront::start(&reg);
    let name = format!("{}/tok/busybox:v1", front.host);
    let k = Kist::new();
    k.ok(&["import", busybox_tar().to_str().unwrap(), &name]);
    let err = k.fails(&["push", &name], 1);
    assert!(one_line(&err).contains("kist login"), "{err}");

    let out = k.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &front.host],
        b"nope\n",
    );
    assert!(
        stderr(&out).contains("wrong username or password"),
        "{}",
        stderr(&out)
    );
    let out = k.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &front.host],
        b"s3cret\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    k.ok(&["push", &name]);

    let fresh = Kist::new();
    let out = fresh.run_with_stdin(
        &["login", "-u", "alice", "--password-stdin", &front.host],
        b"s3cret\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    fresh.ok(&["pull", &name]);
    assert_eq!(fresh.ok(&["run", "--rm", &name, "echo", "tok"]), "tok\n");
    let scopes = front.scopes.lock().unwrap().clone();
    assert!(
        scopes.contains(&"repository:tok/busybox:pull,push".to_string())
            && scopes.contains(&"repository:tok/busybox:pull".to_string()),
        "{scopes:?}"
    );
}

/// A TCP relay to `upstream` that can slow its answers down to a trickle (64 KiB per 50 ms),
/// so that a pull can be killed half-way.
struct SlowRelay {
    host: String,
    slow: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SlowRelay {
    fn to(upstream: &str) -> SlowRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let slow = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let upstream = upstream.to_string();
        let flag = slow.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_in, mut c_out) = (server, client);
                let flag = flag.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match s_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        if flag.load(std::sync::atomic::Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        SlowRelay { host, slow }
    }
}

#[test]
#[ignore = "needs root"]
fn a_pull_killed_half_way_leaves_no_image_and_the_next_reuses_what_was_whole() {
    let reg = Registry::start();
    let k = Kist::with_busybox();
    // Two layers: busybox's (2 MB) and 8 MB of noise on top.
    k.ok(&[
        "run",
        "--name",
        "noisy",
        "busybox",
        "dd",
        "if=/dev/urandom",
        "of=/noise",
        "bs=1M",
        "count=8",
    ]);
    let pushed = format!("{}/noisy:v1", reg.host);
    k.ok(&["commit", "noisy", &pushed]);
    k.ok(&["rm", "noisy"]);
    k.ok(&["push", &pushed]);

    let relay = SlowRelay::to(&reg.host);
    let name = format!("{}/noisy:v1", relay.host);
    let fresh = Kist::new();
    let mut pull = fresh
        .command(&["pull", &name])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the small layer is whole and the big one is still coming.
    wait_until("the first layer to land", || {
        fresh.entries("layers").len() == 1
    });
    // SAFETY: kill(2) takes plain integers; the pid is the pull this test started.
    unsafe { libc::kill(i32::try_from(pull.id()).unwrap(), libc::SIGKILL) };
    let _ = pull.wait();
    assert_eq!(fresh.ok(&["images", "-q"]), "", "no half image");
    // The next command clears what the killed one left in tmp.
    let left: Vec<String> = fresh
        .entries("tmp")
        .into_iter()
        .filter(|e| !e.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    relay
        .slow
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let out = fresh.ok(&["pull", &name]);
    assert_eq!(out.matches("Already exists").count(), 1, "{out}");
    assert_eq!(out.matches("Pull complete").count(), 1, "{out}");
    assert_eq!(
        fresh.ok(&["run", "--rm", &name, "wc", "-c", "/noise"]),
        "8388608 /noise\n"
    );
    fresh.assert_clean();
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_corrupt_blob_in_the_store_is_named_not_pushed() {
    let reg = Registry::start();
    let name = format!("{}/busybox:v1", reg.host);
    let k = Kist::new();
    k.ok(&["import", busybox_tar().to_str().unwrap(), &name]);
    // The layer is the largest blob (the others are the config and the manifest).
    let blob = fs::read_dir(k.path().join("images/blobs/sha256"))
        .unwrap()
        .flatten()
        .max_by_key(|e| e.metadata().unwrap().len())
        .unwrap()
        .path();
    let hex = blob.file_name().unwrap().to_string_lossy().into_owned();
    let mut bytes = fs::read(&blob).unwrap();
    bytes[600] ^= 0xff;
    fs::write(&blob, bytes).unwrap();
    let err = k.fails(&["push", &name], 1);
    assert!(
        one_line(&err).contains("does not match its digest") && err.contains(&hex),
        "{err}"
    );
    let err = k.fails(
        &[
            "save",
            "-o",
            k.path().join("x.tar").to_str().unwrap(),
            &name,
        ],
        1,
    );
    assert!(
        err.contains("does not match its digest") && err.contains("busybox"),
        "{err}"
    );
    assert!(!k.path().join("x.tar").exists());
}

#[test]
#[ignore = "needs root"]
fn run_and_create_pull_a_missing_image_with_pulls_lines_on_stderr() {
    let reg = Registry::start();
    let k = Kist::with_busybox();
    let name = format!("{}/busybox:v1", reg.host);
    k.ok(&["tag", "busybox", &name]);
    let pushed = k.ok(&["push", &name]);
    let digest = pushed
        .lines()
        .find_map(|l| l.split("digest: ").nth(1))
        .and_then(|d| d.split(' ').next())
        .unwrap()
        .to_string();

    let fresh = Kist::new();
    let refused = fresh.fails(&["run", "--rm", "--pull", "never", &name, "true"], 125);
    let said = one_line(&refused);
    assert!(
        said.starts_with(&format!("kist: No such image: {name} ")),
        "{said}"
    );
    assert_eq!(fresh.ok(&["images", "-q"]), "", "--pull never pulled");

    // Docker's default, missing: the pull's lines on stderr, "Unable to find" first.
    let out = fresh.run(&["run", "--rm", &name, "echo", "hi"]);
    assert_eq!(stdout(&out), "hi\n", "{}", stderr(&out));
    let said = stderr(&out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[0], format!("Unable to find image '{name}' locally"));
    assert_eq!(lines[1], "v1: Pulling from busybox");
    assert!(said.contains(": Pull complete"), "{said}");
    assert!(said.contains(&format!("Digest: {digest}")), "{said}");
    assert_eq!(
        lines.last().copied(),
        Some(format!("Status: Downloaded newer image for {name}").as_str())
    );
    assert!(out.status.success());
    // Now it is here: nothing pulled, nothing said; always asks the registry again.
    let out = fresh.run(&["run", "--rm", &name, "echo", "hi"]);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("hi\n", ""));
    let out = fresh.run(&["run", "--rm", "--pull", "always", &name, "echo", "hi"]);
    assert_eq!(stdout(&out), "hi\n");
    let said = stderr(&out);
    assert!(!said.contains("Unable to find"), "{said}");
    assert!(
        said.contains(&format!("Status: Image is up to date for {name}")),
        "{said}"
    );

    // create pulls the same way; its stdout is the id alone. By digest too.
    let other = Kist::new();
    let by_digest = format!("{}/busybox@{digest}", reg.host);
    let out = other.run(&["create", "--name", "made", &by_digest, "echo", "made"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim().len(), 64, "{}", stdout(&out));
    let said = stderr(&out);
    assert!(
        said.starts_with(&format!("Unable to find image '{by_digest}' locally\n")),
        "{said}"
    );
    assert!(
        said.contains(&format!("{digest}: Pulling from busybox")),
        "{said}"
    );
    let out = other.run(&["start", "-a", "made"]);
    assert_eq!(stdout(&out), "made\n", "{}", stderr(&out));
    other.ok(&["rm", "made"]);
    // -q: the pull says nothing.
    let quiet = Kist::new();
    let out = quiet.run(&["run", "--rm", "-q", &name, "echo", "quiet"]);
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("quiet\n", "")
    );
    quiet.assert_clean();

    // An image the registry lacks: run fails with 125 and one line.
    let missing = format!("{}/nosuch:v1", reg.host);
    let stderr = fresh.fails(&["run", "--rm", &missing, "true"], 125);
    assert!(
        stderr.starts_with(&format!("Unable to find image '{missing}' locally\n")),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("kist:")).count(),
        1,
        "{stderr}"
    );
    fresh.assert_clean();
    other.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn build_pulls_its_base_images_as_pull_says() {
    let reg = Registry::start();
    let k = Kist::with_busybox();
    let name = format!("{}/busybox:base", reg.host);
    k.ok(&["tag", "busybox", &name]);
    k.ok(&["push", &name]);
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {name} AS one\nRUN echo built > /built\nFROM {name}\nCOPY --from=one /built /\n"
        ),
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();

    let fresh = Kist::new();
    // never: nothing is pulled.
    fresh.fails(&["build", "--pull=never", path], 1);
    assert_eq!(fresh.ok(&["images", "-q"]), "");
    // missing (the default): pulled once, its lines on stderr, the build's on stdout.
    let out = fresh.run(&["build", "-t", "child", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert_eq!(said.matches("Pulling from busybox").count(), 1, "{said}");
    assert!(
        said.contains(&format!("Status: Downloaded newer image for {name}")),
        "{said}"
    );
    assert!(stdout(&out).contains("naming to"), "{}", stdout(&out));
    assert_eq!(
        fresh.ok(&["run", "--rm", "child", "cat", "/built"]),
        "built\n"
    );
    // Present now: missing asks nothing; --pull (always) asks the registry, once a build.
    let out = fresh.run(&["build", path]);
    assert_eq!(stderr(&out), "");
    let out = fresh.run(&["build", "--pull", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert_eq!(
        said.matches(&format!("Status: Image is up to date for {name}"))
            .count(),
        1,
        "{said}"
    );
    assert!(stdout(&out).contains("#2 CACHED"), "{}", stdout(&out));
}

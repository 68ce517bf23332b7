//! Naming a local image as Docker users do: by name, by repository digest (`NAME@sha256:...`),
//! by image id (`sha256:...`) or a prefix of it, in every command that takes an image.

mod common;

use common::Kist;

/// The image's full id (`sha256:...`) and its repository digest (`busybox@sha256:...`).
fn id_and_repo_digest(k: &Kist, image: &str) -> (String, String) {
    let id = k.ok(&["image", "inspect", "-f", "{{.Id}}", image]);
    let digest = k.ok(&["image", "inspect", "-f", "{{index .RepoDigests 0}}", image]);
    (id.trim().to_string(), digest.trim().to_string())
}

#[test]
#[ignore = "needs root"]
fn every_image_command_takes_a_digest_an_id_or_an_id_prefix() {
    let k = Kist::with_busybox();
    let (id, repo_digest) = id_and_repo_digest(&k, "busybox");
    let hex = id.strip_prefix("sha256:").unwrap();
    let digest = repo_digest.split_once('@').unwrap().1;
    let forms = [
        repo_digest.clone(),
        format!("busybox:latest@{digest}"),
        format!("docker.io/library/busybox@{digest}"),
        id.clone(),
        hex.to_string(),
        hex[..6].to_string(),
        format!("sha256:{}", &hex[..8]),
    ];
    let save = tempfile::tempdir().unwrap();
    for (i, form) in forms.iter().enumerate() {
        assert_eq!(
            k.ok(&["run", "--rm", form, "echo", "hi"]),
            "hi\n",
            "run {form}"
        );
        for inspect in [&["inspect"][..], &["image", "inspect"]] {
            let args = [inspect, &["-f", "{{.Id}}", form]].concat();
            assert_eq!(k.ok(&args).trim(), id, "{args:?}");
        }
        assert!(
            k.ok(&["history", "-q", form]).contains(&hex[..12]),
            "history {form}"
        );
        let tag = format!("again{i}");
        k.ok(&["tag", form, &tag]);
        assert_eq!(id_and_repo_digest(&k, &tag).0, id, "tag {form}");
        let archive = save.path().join(format!("{i}.tar"));
        k.ok(&["save", "-o", archive.to_str().unwrap(), form]);
        assert!(archive.metadata().unwrap().len() > 0, "save {form}");
    }
    // A digest is looked up in its own repository only, and a digest nothing has is missing.
    let other = format!("other@{digest}");
    let missing = k.fails(&["image", "inspect", &other], 1);
    assert!(missing.contains("no such image"), "{missing}");
    let unknown = format!("busybox@sha256:{}", "0".repeat(64));
    let missing = k.fails(&["history", &unknown], 1);
    assert!(missing.contains("no such image"), "{missing}");

    // rmi by digest: one name left, then none, as in Docker.
    for i in 0..forms.len() {
        k.ok(&["rmi", &format!("again{i}")]);
    }
    k.ok(&["rmi", &repo_digest]);
    assert_eq!(k.ok(&["images", "-q"]), "");
    k.assert_clean();
}

/// A tarball with one file, so that each image made of one has an id of its own.
fn tiny_rootfs(n: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let body = format!("image {n}\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, "id", body.as_bytes())
        .unwrap();
    builder.into_inner().unwrap()
}

#[test]
#[ignore = "needs root"]
fn an_ambiguous_id_prefix_is_refused_with_the_number_of_candidates() {
    let k = Kist::new();
    // Among 17 ids two share their first hex digit; usually a few imports suffice.
    let mut ids: Vec<String> = Vec::new();
    let (first, second) = loop {
        let n = ids.len();
        assert!(n <= 16, "17 ids without a shared first digit: {ids:?}");
        let out = k.run_with_stdin(&["import", "-", &format!("tiny{n}")], &tiny_rootfs(n));
        assert!(out.status.success(), "{}", common::stderr(&out));
        let id = common::stdout(&out)
            .trim()
            .trim_start_matches("sha256:")
            .to_string();
        if let Some(twin) = ids.iter().find(|i| i[..1] == id[..1]) {
            break (twin.clone(), id);
        }
        ids.push(id);
    };
    let shared: String = first
        .chars()
        .zip(second.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    let stderr = k.fails(&["run", "--rm", &shared, "true"], 125);
    assert!(
        stderr.contains(&format!(
            "image ID prefix {shared:?} is ambiguous: 2 images match"
        )),
        "{stderr}"
    );
    for command in [&["rmi"][..], &["image", "inspect"], &["history"]] {
        let args = [command, &[shared.as_str()]].concat();
        let stderr = k.fails(&args, 1);
        assert!(stderr.contains("2 images match"), "{args:?}: {stderr}");
    }
    // Both are still there, and one digit more tells them apart.
    let longer = &second[..shared.len() + 1];
    let found = k.ok(&["image", "inspect", "-f", "{{.Id}}", longer]);
    assert_eq!(found.trim(), format!("sha256:{second}"));
    assert_eq!(k.ok(&["images", "-q"]).lines().count(), ids.len() + 1);
}

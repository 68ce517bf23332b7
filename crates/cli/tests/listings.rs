//! The listings scripts parse: `--format` as Docker's (Go templates, `table`, `json`), Docker's
//! headers and columns, `ps -s`, `volume ls --filter`, `system df`.

mod common;

use common::{Kist, wait_until};

#[test]
#[ignore = "needs root"]
fn ps_takes_go_templates_tables_and_json() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--name",
        "web",
        "--label",
        "tier=front",
        "busybox",
        "true",
    ]);
    assert_eq!(
        k.ok(&["ps", "-a", "--format", "table {{.Names}}\t{{.State}}"]),
        "NAMES     STATE\nweb       exited\n"
    );
    assert_eq!(
        k.ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}}{{if eq .State \"exited\"}} stopped{{end}} {{.Labels}}"
        ]),
        "web stopped tier=front\n"
    );
    let json = k.ok(&["ps", "-a", "--format", "json"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(
        (row["Names"].as_str(), row["Image"].as_str()),
        (Some("web"), Some("busybox"))
    );
    // A bare `table` is the default table.
    let table = k.ok(&["ps", "-a", "--format", "table"]);
    assert!(
        table.starts_with("CONTAINER ID   IMAGE     COMMAND   CREATED"),
        "{table}"
    );
    // -s: the write layer, and the image under it.
    k.ok(&[
        "run",
        "--name",
        "writer",
        "busybox",
        "sh",
        "-c",
        "head -c 5000 /dev/zero > /f",
    ]);
    let sized = k.ok(&["ps", "-as"]);
    let header = sized.lines().next().unwrap();
    assert!(header.ends_with("NAMES     SIZE"), "{sized}");
    let writer = sized.lines().find(|l| l.contains(" writer ")).unwrap();
    assert!(writer.ends_with("5kB (virtual 1.99MB)"), "{sized}");
    k.ok(&["rm", "web", "writer"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn images_history_and_inspect_take_templates() {
    let k = Kist::with_busybox();
    assert_eq!(
        k.ok(&["images", "--format", "table {{.Repository}}\t{{.Tag}}"]),
        "REPOSITORY   TAG\nbusybox      latest\n"
    );
    let history = k.ok(&["history", "--format", "{{.CreatedBy}}|{{.Size}}", "busybox"]);
    assert!(history.starts_with("kist import "), "{history}");
    assert!(history.trim_end().ends_with("|1.98MB"), "{history}");
    let json = k.ok(&["image", "inspect", "--format", "json", "busybox"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["RepoTags"][0], "busybox:latest");
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{index .RepoTags 0}} {{len .RootFS.Layers}}",
            "busybox"
        ]),
        "busybox:latest 1\n"
    );
}

#[test]
#[ignore = "needs root"]
fn volume_ls_takes_filters_and_templates() {
    let k = Kist::with_busybox();
    k.ok(&["volume", "create", "web-data"]);
    k.ok(&["volume", "create", "db-data"]);
    k.ok(&[
        "run",
        "--name",
        "db",
        "-v",
        "db-data:/data",
        "busybox",
        "true",
    ]);
    let names = |filters: &[&str]| {
        let mut args = vec!["volume", "ls", "-q"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        k.ok(&args)
    };
    assert_eq!(names(&["dangling=true"]), "web-data\n");
    assert_eq!(names(&["dangling=false"]), "db-data\n");
    assert_eq!(names(&["name=web"]), "web-data\n");
    assert_eq!(names(&["name=data", "dangling=false"]), "db-data\n");
    assert_eq!(names(&["driver=local", "name=web"]), "web-data\n");
    assert_eq!(names(&["label=tier"]), "");
    let err = k.fails(&["volume", "ls", "--filter", "colour=red"], 1);
    assert!(err.contains("invalid filter"), "{err}");
    let table = k.ok(&[
        "volume",
        "ls",
        "--format",
        "table {{.Name}}\t{{.Driver}}",
        "-f",
        "name=web",
    ]);
    assert_eq!(table, "VOLUME NAME   DRIVER\nweb-data      local\n");
    let mountpoint = k.ok(&["volume", "inspect", "-f", "{{.Mountpoint}}", "web-data"]);
    assert!(
        mountpoint.trim_end().ends_with("/volumes/web-data/_data"),
        "{mountpoint}"
    );
    k.ok(&["rm", "db"]);
    k.ok(&["volume", "rm", "web-data", "db-data"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn system_df_counts_a_shared_layer_once() {
    let k = Kist::with_busybox();
    // A second image on busybox's layer, with a small layer of its own.
    k.ok(&[
        "run",
        "--name",
        "base",
        "busybox",
        "sh",
        "-c",
        "echo hi > /hello",
    ]);
    k.ok(&["commit", "base", "derived"]);
    k.ok(&["rm", "base"]);
    let df = k.ok(&[
        "system",
        "df",
        "--format",
        "{{.Type}} {{.TotalCount}} {{.Size}}",
    ]);
    let images = df.lines().next().unwrap();
    // Twice busybox would be 3.96MB.
    assert_eq!(images, "Images 2 1.98MB", "{df}");
    let table = k.ok(&["system", "df"]);
    assert!(
        table.starts_with("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"),
        "{table}"
    );
    assert!(
        table.contains("Images          2         0         1.98MB    1.98MB (100%)\n"),
        "{table}"
    );
    wait_until("nothing left", || k.ok(&["ps", "-aq"]).is_empty());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn inspect_has_docker_s_config_host_config_and_network_settings() {
    let k = Kist::with_busybox();
    k.ok(&["volume", "create", "data"]);
    let host_dir = tempfile::tempdir().unwrap();
    let bind = format!("{}:/host:ro", host_dir.path().display());
    k.ok(&[
        "run",
        "--name",
        "full",
        "--label",
        "tier=front",
        "-e",
        "A=1",
        "--entrypoint",
        "echo",
        "-v",
        "data:/data",
        "-v",
        &bind,
        "-v",
        "/anon",
        "--restart",
        "no",
        "-w",
        "/tmp",
        "-u",
        "1:1",
        "-h",
        "box",
        "--read-only",
        "--init",
        "busybox",
        "hi",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&k.ok(&["inspect", "full"])).unwrap();
    let c = &doc[0];
    assert_eq!(c["Config"]["Labels"], serde_json::json!({"tier": "front"}));
    assert!(
        c["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&"A=1".into())
    );
    assert_eq!(c["Config"]["Entrypoint"], serde_json::json!(["echo"]));
    assert_eq!(c["Config"]["Cmd"], serde_json::json!(["hi"]));
    assert_eq!(
        (
            &c["Config"]["WorkingDir"],
            &c["Config"]["User"],
            &c["Config"]["Hostname"]
        ),
        (&"/tmp".into(), &"1:1".into(), &"box".into())
    );
    let hc = &c["HostConfig"];
    assert_eq!(
        hc["RestartPolicy"],
        serde_json::json!({"Name": "no", "MaximumRetryCount": 0})
    );
    assert_eq!(hc["Binds"], serde_json::json!(["data:/data", bind]));
    assert_eq!(
        (&hc["ReadonlyRootfs"], &hc["Init"]),
        (&true.into(), &true.into())
    );
    assert_eq!(hc["NetworkMode"], "none");
    assert_eq!(c["Mounts"].as_array().unwrap().len(), 3, "{}", c["Mounts"]);
    let ns = &c["NetworkSettings"];
    assert_eq!((&ns["Bridge"], &ns["IPAddress"]), (&"".into(), &"".into()));
    assert_eq!(
        (&ns["Ports"], &ns["Networks"]),
        (&serde_json::json!({}), &serde_json::json!({}))
    );
    assert!(
        c["State"].get("Health").is_none(),
        "no health check, no Health"
    );
    // Go prints a slice as [a b], a map as map[k:v].
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.Config.Cmd}} {{.Config.Labels}}",
            "full"
        ]),
        "[hi] map[tier:front]\n"
    );
    // A container of the image's own command has no entrypoint of its own.
    k.ok(&["run", "--name", "plain", "busybox", "true"]);
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .HostConfig.Binds}}",
            "plain"
        ]),
        "null [\"true\"] null\n"
    );
    k.ok(&["rm", "-v", "full", "plain"]);
    k.ok(&["volume", "rm", "data"]);
}

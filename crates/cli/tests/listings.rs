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

//! `kist ps`: Docker's columns, filters and formats.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};
use clap::Args;
use kist_engine::observe::tree_size;
use kist_engine::{ContainerRecord, ContainerState, Engine};
use serde_json::{Value, json};

use crate::{flags, format};

// The listings' shared flags, with ps's own words for its filters and template.
#[derive(Args)]
#[command(mut_arg("all", |a| a.help("Show all containers (default shows just running)")))]
#[command(mut_arg("quiet", |a| a.help("Only display container IDs")))]
#[command(mut_arg("filter", |a| a.help("status=, name=, id=, ancestor=, label=")))]
#[command(mut_arg("format", |a| a.help("A template per container, such as '{{.ID}} {{.Names}}'")))]
pub struct PsArgs {
    #[command(flatten)]
    all: flags::All,
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
    /// Show the N most recently created containers (any state)
    #[arg(short = 'n', long = "last")]
    last: Option<usize>,
    /// Show the most recently created container
    #[arg(short, long)]
    latest: bool,
    /// Display total file sizes: the write layer's, and with the image's (virtual)
    #[arg(short, long)]
    size: bool,
    #[command(flatten)]
    filter: flags::Filters,
    #[command(flatten)]
    format: flags::Format,
}

/// A `--filter key=value`; filters of one key are alternatives, of different keys all apply.
#[derive(Debug, PartialEq)]
struct Filter {
    key: String,
    value: String,
}

fn parse_filters(raw: &[String]) -> Result<Vec<Filter>> {
    raw.iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) if ["status", "name", "id", "ancestor", "label"].contains(&k) => {
                Ok(Filter {
                    key: k.into(),
                    value: v.into(),
                })
            }
            _ => bail!("invalid filter {f:?}: use status=, name=, id=, ancestor= or label="),
        })
        .collect()
}

fn status_word(c: &ContainerRecord) -> &'static str {
    match c.state {
        ContainerState::Running if c.process.is_some_and(|p| p.is_alive()) => "running",
        ContainerState::Running | ContainerState::Exited => "exited",
        ContainerState::Created => "created",
        ContainerState::Removing => "removing",
    }
}

/// What ps shows of a container's recorded config. Read into these two fields alone, which is
/// much cheaper than the whole document: ps reads a thousand of them in a few milliseconds.
#[derive(serde::Deserialize, Default)]
struct Recorded {
    #[serde(rename = "Labels", default)]
    labels: BTreeMap<String, String>,
    #[serde(rename = "NetworkMode", default)]
    network: Option<String>,
    #[serde(rename = "NetworkName", default)]
    network_name: Option<String>,
}

fn recorded(c: &ContainerRecord) -> Recorded {
    serde_json::from_str(&c.config).unwrap_or_default()
}

fn matches(c: &ContainerRecord, f: &Filter) -> bool {
    match f.key.as_str() {
        "status" => status_word(c) == f.value,
        "name" => c.name.contains(f.value.trim_start_matches('/')),
        "id" => c.id.starts_with(&f.value),
        "ancestor" => {
            c.image == f.value
                || c.image_id
                    .trim_start_matches("sha256:")
                    .starts_with(f.value.trim_start_matches("sha256:"))
                || kist_image::Reference::parse(&f.value)
                    .is_ok_and(|r| kist_image::Reference::parse(&c.image).is_ok_and(|own| own == r))
        }
        "label" => {
            let labels = recorded(c).labels;
            match f.value.split_once('=') {
                Some((k, v)) => labels.get(k).map(String::as_str) == Some(v),
                None => labels.contains_key(&f.value),
            }
        }
        _ => false,
    }
}

fn keep(c: &ContainerRecord, filters: &[Filter]) -> bool {
    let mut keys: Vec<&str> = filters.iter().map(|f| f.key.as_str()).collect();
    keys.dedup();
    keys.iter().all(|k| {
        filters
            .iter()
            .filter(|f| f.key == *k)
            .any(|f| matches(c, f))
    })
}

pub fn ps(engine: &Engine, args: &PsArgs) -> Result<i32> {
    let layout = &engine.layout;
    let containers = listed(engine, args)?;
    if args.quiet.on {
        for c in &containers {
            outln!("{}", id(c, args.no_trunc.on));
        }
        return Ok(0);
    }
    // Sizes cost a walk of each write layer: only when asked for, as Docker does.
    let sizes = args.size
        || args
            .format
            .value
            .as_deref()
            .is_some_and(|f| f.contains(".Size"));
    // Labels and networks cost a parse of each recorded config: only for a template that
    // reads them (Docker's default table does not).
    let recorded_fields = args
        .format
        .value
        .as_deref()
        .is_some_and(|f| reads(f, "Label") || reads(f, "Networks"));
    let image_sizes = if sizes {
        image_sizes(engine)?
    } else {
        HashMap::new()
    };
    let rows: Vec<Value> = containers
        .iter()
        .map(|c| {
            let size = sizes.then(|| size(engine, c, &image_sizes));
            // Health and published ports belong to running containers only: the others are
            // not asked about (a store query each would make `ps -a` of 1,000 containers
            // 2.5 times as long).
            let running = status_word(c) == "running";
            let health = running
                .then(|| kist_engine::health::status(layout, &c.id))
                .flatten();
            let recorded = recorded_fields.then(|| recorded(c));
            let mut row = row(c, args.no_trunc.on, size, health.as_deref(), recorded);
            if running {
                row["Ports"] = kist_engine::network::ports::ps_column(engine, c).into();
            }
            row
        })
        .collect();
    let default = if args.size {
        format!("{TABLE}\t{{{{.Size}}}}")
    } else {
        TABLE.to_string()
    };
    format::print_rows(args.format.value.as_deref(), &default, &rows, &HEADERS)?;
    Ok(0)
}

/// Docker's `SIZE`: the write layer's, and "(virtual N)" with the image's layers under it.
fn size(engine: &Engine, c: &ContainerRecord, images: &HashMap<String, u64>) -> String {
    let upper = tree_size(&engine.layout.container_dir(&c.id).join("upper"));
    let image = images.get(&c.image_id).copied().unwrap_or(0);
    if image == 0 {
        return format::human_size(upper);
    }
    format!(
        "{} (virtual {})",
        format::human_size(upper),
        format::human_size(upper + image)
    )
}

/// Each image's size, by id.
fn image_sizes(engine: &Engine) -> Result<HashMap<String, u64>> {
    Ok(engine
        .images
        .list()?
        .into_iter()
        .map(|i| (i.id.to_string(), i.size))
        .collect())
}

fn id(c: &ContainerRecord, no_trunc: bool) -> String {
    if no_trunc {
        c.id.clone()
    } else {
        c.short_id().to_string()
    }
}

/// The containers to show, newest first: running ones, unless the flags ask for others.
fn listed(engine: &Engine, args: &PsArgs) -> Result<Vec<ContainerRecord>> {
    let filters = parse_filters(&args.filter.values)?;
    let explicit_status = filters.iter().any(|f| f.key == "status");
    let any_state = args.all.on || explicit_status || args.last.is_some() || args.latest;
    let mut containers: Vec<ContainerRecord> = engine
        .store
        .containers()?
        .into_iter()
        .filter(|c| any_state || status_word(c) == "running")
        .filter(|c| keep(c, &filters))
        .collect();
    if args.latest {
        containers.truncate(1);
    } else if let Some(n) = args.last {
        containers.truncate(n);
    }
    Ok(containers)
}

/// Docker's default table (`-s` adds `{{.Size}}`).
const TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Docker's column name for each field.
const HEADERS: [(&str, &str); 12] = [
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Networks", "NETWORKS"),
];

/// Whether template `format` may read `field`: it names it, or it reads the whole row (a `.`
/// not followed by a field's name, as in `{{json .}}`), which this takes for every field.
fn reads(format: &str, field: &str) -> bool {
    let whole_row = format
        .match_indices('.')
        .any(|(at, _)| !format[at + 1..].starts_with(|c: char| c.is_ascii_alphabetic()));
    whole_row || format.contains(field)
}

/// One container as `--format` sees it (Docker's field names); `size` when asked for, its
/// labels and networks when `recorded` (otherwise empty: see `reads`).
fn row(
    c: &ContainerRecord,
    no_trunc: bool,
    size: Option<String>,
    health: Option<&str>,
    recorded: Option<Recorded>,
) -> Value {
    let mut command = format!("\"{}\"", c.command.join(" "));
    if !no_trunc && command.chars().count() > 20 {
        command = format!("{}…\"", command.chars().take(19).collect::<String>());
    }
    let status = match status_word(c) {
        "running" if kist_engine::lifecycle::is_paused(c) => format!(
            "Up {} (Paused)",
            format::since(c.started_at.as_deref().unwrap_or(&c.created))
        ),
        "running" => {
            let up = format::since(c.started_at.as_deref().unwrap_or(&c.created));
            match health {
                // Docker's words: "(health: starting)", "(healthy)", "(unhealthy)".
                Some("starting") => format!("Up {up} (health: starting)"),
                Some(h) => format!("Up {up} ({h})"),
                None => format!("Up {up}"),
            }
        }
        "exited" => format!(
            "Exited ({}) {}",
            c.exit_code.unwrap_or(0),
            format::ago(c.finished_at.as_deref().unwrap_or(&c.created))
        ),
        "created" => "Created".into(),
        _ => "Removal In Progress".into(),
    };
    let recorded = recorded.unwrap_or_default();
    let network = match (
        recorded.network.as_deref(),
        recorded.network_name.as_deref(),
    ) {
        (Some("Host"), _) => "host",
        (Some("Bridge" | "Container"), Some(name)) => name,
        _ => "none",
    };
    let labels = recorded
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    json!({
        "ID": id(c, no_trunc),
        "Image": c.image,
        "Command": command,
        "CreatedAt": format::go_time_of(&c.created),
        "RunningFor": format::ago(&c.created),
        "Status": status,
        "State": status_word(c),
        "Ports": "",
        "Names": c.name,
        "Labels": labels,
        "Networks": network,
        "Size": size.unwrap_or_else(|| "0B".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, state: ContainerState, labels: &str) -> ContainerRecord {
        ContainerRecord {
            id: format!("{name:0<64}"),
            name: name.into(),
            image: "busybox".into(),
            image_id: "sha256:abcdef".into(),
            command: vec!["sh".into()],
            created: "2026-01-01T00:00:00Z".into(),
            state,
            process: None,
            monitor: None,
            exit_code: Some(0),
            started_at: None,
            finished_at: None,
            error: None,
            auto_remove: false,
            config: format!(r#"{{"Labels": {labels}}}"#),
            stop_requested: false,
            restart_count: 0,
            oom_killed: false,
        }
    }

    #[test]
    fn a_template_reads_the_fields_it_names_or_the_whole_row() {
        assert!(!reads(TABLE, "Label"));
        assert!(!reads(TABLE, "Networks"));
        assert!(reads("{{.Names}} {{.Labels}}", "Label"));
        assert!(reads("{{.Label \"tier\"}}", "Label"));
        assert!(reads("{{json .}}", "Networks"));
        assert!(reads("{{ . }}", "Label"));
        assert!(
            reads("{{printf \"%.3s\" .Names}}", "Label"),
            "a '.' that is not a field's"
        );
    }

    #[test]
    fn filters_combine_like_docker_s() {
        let web = record("web", ContainerState::Exited, r#"{"tier": "front"}"#);
        let db = record("db", ContainerState::Created, r#"{"tier": "back"}"#);
        let f = |s: &[&str]| {
            parse_filters(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert!(keep(&web, &f(&["status=exited"])));
        assert!(!keep(&db, &f(&["status=exited"])));
        assert!(
            keep(&db, &f(&["status=exited", "status=created"])),
            "same key: either"
        );
        assert!(
            !keep(&web, &f(&["status=exited", "name=db"])),
            "different keys: both"
        );
        assert!(keep(
            &web,
            &f(&["label=tier=front", "ancestor=busybox", "ancestor=other"])
        ));
        assert!(keep(&web, &f(&["label=tier", "id=web", "ancestor=abcd"])));
        assert!(keep(
            &web,
            &f(&["ancestor=docker.io/library/busybox:latest"])
        ));
        assert!(!keep(&db, &f(&["label=tier=front"])));
        assert!(parse_filters(&["colour=red".into()]).is_err());
    }
}

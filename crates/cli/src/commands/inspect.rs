//! `kist inspect` (containers or images), `kist container inspect` and `kist image inspect`:
//! Docker's JSON documents, or a template applied to each.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use serde_json::Value;

use crate::flags;
use crate::template::{MissingKey, Template};

// inspect's --format is the listings' with Docker's -f, free here (no --filter).
#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.State.Pid}}'")))]
pub struct InspectArgs {
    #[command(flatten)]
    format: flags::Format,
    /// container or image (default: whichever the name finds)
    #[arg(long = "type")]
    kind: Option<String>,
    /// Containers or images, by name or ID
    #[arg(required = true, value_name = "NAME|ID")]
    names: Vec<String>,
}

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.Config.Env}}'")))]
pub struct ImageInspectArgs {
    #[command(flatten)]
    format: flags::Format,
    /// Images, by name or ID
    #[arg(required = true, value_name = "IMAGE")]
    names: Vec<String>,
}

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.State.Pid}}'")))]
pub struct ContainerInspectArgs {
    #[command(flatten)]
    format: flags::Format,
    /// Containers, by name or ID
    #[arg(required = true, value_name = "CONTAINER")]
    names: Vec<String>,
}

pub fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    show(
        engine,
        args.format.value.as_deref(),
        args.kind.as_deref(),
        &args.names,
    )
}

pub fn image_inspect(engine: &Engine, args: &ImageInspectArgs) -> Result<i32> {
    show(
        engine,
        args.format.value.as_deref(),
        Some("image"),
        &args.names,
    )
}

pub fn container_inspect(engine: &Engine, args: &ContainerInspectArgs) -> Result<i32> {
    show(
        engine,
        args.format.value.as_deref(),
        Some("container"),
        &args.names,
    )
}

/// Every document first, so that a name found nowhere prints nothing.
fn show(
    engine: &Engine,
    format: Option<&str>,
    kind: Option<&str>,
    names: &[String],
) -> Result<i32> {
    let docs = names
        .iter()
        .map(|name| document(engine, kind, name))
        .collect::<Result<Vec<_>>>()?;
    print_documents(format, &docs)
}

/// Docker's inspect output: the documents as one indented JSON array, or `format` (Go's
/// template, `json` for `{{json .}}`) run on each, a line each. As for Docker's typed
/// documents, a field a document lacks is an error, not `<no value>`.
pub fn print_documents(format: Option<&str>, docs: &[Value]) -> Result<i32> {
    match format {
        Some(format) => {
            let t = Template::parse(format)?.missing_key(MissingKey::Error);
            for d in docs {
                outln!("{}", t.execute(d)?);
            }
        }
        None => outln!("{}", serde_json::to_string_pretty(docs)?),
    }
    Ok(0)
}

/// The object `name` is: the container of that name or id if there is one, else the image.
fn document(engine: &Engine, kind: Option<&str>, name: &str) -> Result<Value> {
    let container = || -> kist_engine::Result<Value> {
        let c = engine.store.find_container(name)?;
        kist_engine::inspect::container(engine, &c)
    };
    Ok(match kind {
        Some("container") => container()?,
        Some("image") => kist_engine::inspect::image(engine, name)?,
        Some(other) => anyhow::bail!("--type {other:?}: use container or image"),
        None => match container() {
            Ok(d) => d,
            Err(kist_engine::Error::NoSuchContainer { .. }) => {
                kist_engine::inspect::image(engine, name)
                    .map_err(|_| anyhow::anyhow!("no such object: {name}"))?
            }
            Err(e) => return Err(e.into()),
        },
    })
}

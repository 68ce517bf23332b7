//! `kist version`: what this kist is, laid out as `docker version` prints its Client section
//! (kist has no daemon, so no Server section), or as `--format` asks.

use anyhow::Result;
use clap::Args;
use serde_json::{Value, json};

use crate::flags;

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.Client.Version}}', or json")))]
pub struct VersionArgs {
    #[command(flatten)]
    format: flags::Format,
}

pub fn version(args: &VersionArgs) -> Result<i32> {
    let data = json!({ "Client": client() });
    let text = match &args.format.value {
        Some(format) => crate::template::Template::parse(format)?.execute(&data)?,
        None => layout(&data["Client"]),
    };
    outln!("{}", text.trim_end_matches('\n'));
    Ok(0)
}

/// Docker's field names where Docker has the field.
fn client() -> Value {
    json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "GitCommit": env!("KIST_GIT_COMMIT"),
        "RustVersion": env!("KIST_RUSTC_VERSION"),
        "OciRuntimeSpecVersion": kist_engine::OCI_VERSION,
        "KernelVersion": kist_engine::observe::system_info::kernel_release(),
        "Os": std::env::consts::OS,
        "Arch": go_arch(std::env::consts::ARCH),
    })
}

/// `docker version`'s Client section: labels in a column 20 wide (its tabwriter's minimum).
fn layout(client: &Value) -> String {
    let field = |k: &str| client[k].as_str().unwrap_or_default().to_string();
    let lines = [
        ("Version:", field("Version")),
        ("Git commit:", field("GitCommit")),
        ("Rust version:", field("RustVersion")),
        ("OCI runtime spec:", field("OciRuntimeSpecVersion")),
        ("Kernel:", field("KernelVersion")),
        ("OS/Arch:", format!("{}/{}", field("Os"), field("Arch"))),
    ];
    let mut text = String::from("Client:\n");
    for (label, value) in lines {
        text.push_str(&format!(" {label:<19}{value}\n"));
    }
    text
}

/// Go's names for architectures, as Docker prints them (amd64, arm64).
fn go_arch(rust: &str) -> &str {
    match rust {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_docker_s_client_section() {
        let text = layout(&json!({
            "Version": "0.1.0", "GitCommit": "abc1234", "RustVersion": "rustc 1.90.0",
            "OciRuntimeSpecVersion": "1.2.0", "KernelVersion": "6.1.0", "Os": "linux",
            "Arch": "amd64",
        }));
        assert_eq!(
            text,
            "Client:\n Version:           0.1.0\n Git commit:        abc1234\n Rust version:      rustc 1.90.0\n OCI runtime spec:  1.2.0\n Kernel:            6.1.0\n OS/Arch:           linux/amd64\n"
        );
    }
}

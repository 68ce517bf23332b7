//! `kist login` and `kist logout`: the credentials kist keeps for a registry (ROOT/auth.json).

use std::io::Read;

use anyhow::{Context, Result, bail};
use clap::Args;
use kist_engine::Engine;
use kist_image::registry::{self, Credential};

use super::{RegistryFlags, credentials};

#[derive(Args)]
pub struct LoginArgs {
    /// The user name
    #[arg(short, long)]
    username: Option<String>,
    /// The password (prefer --password-stdin: arguments are visible to other users)
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    registry: RegistryFlags,
    #[command(flatten)]
    server: Server,
}

#[derive(Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    server: Server,
}

// SERVER: the registry both commands name.
#[derive(Args)]
#[group(skip)]
struct Server {
    /// The registry, HOST[:PORT] [default: docker.io]
    #[arg(id = "server", value_name = "SERVER")]
    value: Option<String>,
}

impl Server {
    /// Docker Hub when none is given.
    fn name(&self) -> String {
        registry::normalize_registry(self.value.as_deref().unwrap_or(""))
    }
}

/// The login is checked with the registry before it is kept.
pub fn login(engine: &Engine, args: &LoginArgs) -> Result<i32> {
    let server = args.server.name();
    let Some(username) = args.username.clone() else {
        bail!("a username is required: kist login -u USER --password-stdin {server}");
    };
    let password = password(args)?;
    let credential = Credential { username, password };
    registry::check_login(&server, &credential, &args.registry.options(engine)?)
        .with_context(|| format!("logging in to {server}"))?;
    credentials(engine).store(&server, &credential)?;
    outln!("Login Succeeded");
    Ok(0)
}

/// From --password (with Docker's warning) or stdin; never empty.
fn password(args: &LoginArgs) -> Result<String> {
    let password = match (&args.password, args.password_stdin) {
        (Some(_), true) => bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p.clone()
        }
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the password from stdin")?;
            s.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => bail!("a password is required: use --password-stdin"),
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

pub fn logout(engine: &Engine, args: &LogoutArgs) -> Result<i32> {
    let server = args.server.name();
    if credentials(engine).remove(&server)? {
        outln!("Removing login credentials for {server}");
    } else {
        outln!("Not logged in to {server}");
    }
    Ok(0)
}

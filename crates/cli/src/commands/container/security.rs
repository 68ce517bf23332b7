//! The flags that confine a container (capabilities, seccomp, devices, sysctls), handed to the
//! engine's `Security::parse` as they are.

use anyhow::Result;
use clap::Args;
use kist_engine::NetworkMode;
use kist_engine::security::{Security, SecurityFlags};

// `run` flattens this after its own flags.
#[derive(Args)]
pub struct SecurityArgs {
    /// Add a Linux capability (NET_ADMIN, CAP_SYS_PTRACE, ALL)
    #[arg(long = "cap-add", value_name = "CAP")]
    cap_add: Vec<String>,
    /// Drop a Linux capability (CHOWN, ALL)
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<String>,
    /// Give the container every capability, every host device, no seccomp, no masked paths
    #[arg(long)]
    privileged: bool,
    /// seccomp=unconfined|PROFILE.json, no-new-privileges[=true], systempaths=unconfined
    #[arg(long = "security-opt", value_name = "OPTION")]
    security_opt: Vec<String>,
    /// Add a host device: HOST[:CONTAINER][:rwm]
    #[arg(long, value_name = "DEVICE")]
    device: Vec<String>,
    /// Add the process to another group (name or id)
    #[arg(long = "group-add", value_name = "GROUP")]
    group_add: Vec<String>,
    /// Set a namespaced kernel parameter (net.*, kernel.shm*, kernel.msg*, fs.mqueue.*)
    #[arg(long, value_name = "KEY=VALUE")]
    sysctl: Vec<String>,
}

impl SecurityArgs {
    /// The sysctls a container may set depend on whether it has a network namespace.
    pub fn security(&self, network: NetworkMode) -> Result<Security> {
        Ok(Security::parse(
            &SecurityFlags {
                cap_add: self.cap_add.clone(),
                cap_drop: self.cap_drop.clone(),
                privileged: self.privileged,
                security_opt: self.security_opt.clone(),
                devices: self.device.clone(),
                group_add: self.group_add.clone(),
                sysctls: self.sysctl.clone(),
            },
            network,
        )?)
    }
}

//! The two IPv4 settings a bridge network needs, in the network namespace of the calling
//! thread (each thread's `/proc/sys/net` is its own namespace's): forwarding on, as Docker
//! turns it on, and `route_localnet` on a bridge so that a connection to 127.0.0.1 can be
//! DNATed to a container.

use std::fs;
use std::io;

use crate::error::{Error, Result};

const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

/// Turns IPv4 forwarding on unless it is on (writing it resets every device's setting, so
/// it is only written when off).
pub fn enable_ip_forward() -> Result<()> {
    let current = fs::read_to_string(IP_FORWARD)
        .map_err(|e| Error::kernel(format!("reading {IP_FORWARD}"), e))?;
    if current.trim() == "1" {
        return Ok(());
    }
    write(IP_FORWARD, "1")
}

/// Lets link `device` route packets from and to 127.0.0.0/8 (`route_localnet`).
pub fn enable_route_localnet(device: &str) -> Result<()> {
    check_device_name(device)?;
    write(
        &format!("/proc/sys/net/ipv4/conf/{device}/route_localnet"),
        "1",
    )
}

fn write(path: &str, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|e| Error::kernel(format!("writing {value} to {path}"), e))
}

/// A device name is a path component here: it must be one.
fn check_device_name(device: &str) -> Result<()> {
    let valid = !device.is_empty()
        && device.len() < 16
        && device != "."
        && device != ".."
        && !device.contains(['/', '\0'])
        && !device.chars().any(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        Err(Error::kernel(
            format!("invalid device name {device:?}"),
            io::Error::from_raw_os_error(libc::EINVAL),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_cannot_leave_the_conf_directory() {
        check_device_name("kist0").expect("plain name");
        for bad in ["", ".", "..", "../all", "a/b", "a b", "0123456789abcdef"] {
            check_device_name(bad).expect_err(bad);
        }
    }
}

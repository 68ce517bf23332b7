//! The settings a bridge network needs, in the network namespace of the calling thread (each
//! thread's `/proc/sys/net` is its own namespace's): IPv4 forwarding on, as Docker turns it
//! on, `route_localnet` on a bridge so that a connection to 127.0.0.1 can be DNATed to a
//! container, and IPv6 off on the veth ends of an IPv4 network, as Docker has it on a
//! container's interface.

use std::fs;
use std::io;
use std::path::Path;

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

/// Turns IPv6 off on link `device` before it comes up: no link-local address, no duplicate
/// address detection or router solicitation for the kernel to run and, when the container's
/// namespace goes, to take down. Nothing to do on a kernel without IPv6.
pub fn disable_ipv6(device: &str) -> Result<()> {
    check_device_name(device)?;
    let path = format!("/proc/sys/net/ipv6/conf/{device}/disable_ipv6");
    match fs::write(&path, "1") {
        Err(e) if e.kind() == io::ErrorKind::NotFound && !Path::new(IPV6_CONF).exists() => Ok(()),
        done => done.map_err(|e| Error::kernel(format!("writing 1 to {path}"), e)),
    }
}

/// Where the kernel has IPv6's settings, when it has IPv6.
const IPV6_CONF: &str = "/proc/sys/net/ipv6/conf";

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

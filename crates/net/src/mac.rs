//! A container's MAC address: `--mac-address` parsed, or made from its IPv4 address as Docker
//! does (02:42 followed by the address's four bytes), so that it is stable and never clashes
//! on a network whose addresses are unique.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Docker's generated address: locally administered (0x02), 0x42, then the IPv4 address.
    pub fn from_ip(ip: Ipv4Addr) -> Mac {
        let [a, b, c, d] = ip.octets();
        Mac([0x02, 0x42, a, b, c, d])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for Mac {
    type Err = Error;

    /// Six colon- or dash-separated hex bytes; not multicast (an interface cannot have one).
    fn from_str(s: &str) -> Result<Mac, Error> {
        let invalid = || Error::Config(format!("invalid MAC address {s:?}"));
        let mut bytes = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut bytes {
            let part = parts.next().filter(|p| p.len() == 2).ok_or_else(invalid)?;
            *byte = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        if bytes[0] & 1 != 0 {
            return Err(Error::Config(format!("{s} is a multicast MAC address")));
        }
        Ok(Mac(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_from_the_ip_as_docker_does() {
        let mac = Mac::from_ip(Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(mac.to_string(), "02:42:ac:11:00:02");
    }

    #[test]
    fn parsed_and_checked() {
        let mac: Mac = "92:d0:c6:0a:29:33".parse().expect("valid");
        assert_eq!(mac.0, [0x92, 0xd0, 0xc6, 0x0a, 0x29, 0x33]);
        assert_eq!(
            "92-D0-C6-0A-29-33"
                .parse::<Mac>()
                .expect("dashes, upper case"),
            mac
        );
        for bad in [
            "92:d0:c6:0a:29",
            "92:d0:c6:0a:29:33:01",
            "92:d0:c6:0a:29:3",
            "zz:d0:c6:0a:29:33",
            "",
        ] {
            bad.parse::<Mac>().expect_err(bad);
        }
        let multicast = "01:00:5e:00:00:01".parse::<Mac>().expect_err("multicast");
        assert_eq!(
            multicast.to_string(),
            "invalid network configuration: 01:00:5e:00:00:01 is a multicast MAC address"
        );
    }
}

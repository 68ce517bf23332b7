//! Brings up `lo` in a new network namespace, which starts with it down.

use crate::error::{Result, SysContext, cvt};

pub fn bring_up_loopback() -> Result<()> {
    // SAFETY: a datagram socket and two ioctls on a zeroed, NUL-terminated ifreq.
    unsafe {
        let sock = cvt(libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
        ))
        .sys(|| "opening a socket to configure lo".into())?;
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = libc::c_char::from_ne_bytes([*b]);
        }
        let result = (|| {
            cvt(libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req))
                .sys(|| "reading lo's flags".into())?;
            // Cannot truncate: IFF_UP is bit 0, and ifreq's flags are a short.
            #[allow(clippy::cast_possible_truncation)]
            let up = libc::IFF_UP as libc::c_short;
            req.ifr_ifru.ifru_flags |= up;
            cvt(libc::ioctl(sock, libc::SIOCSIFFLAGS, &req)).sys(|| "bringing lo up".into())?;
            Ok(())
        })();
        libc::close(sock);
        result
    }
}

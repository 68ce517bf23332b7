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
            req.ifr_name[i] = *b as libc::c_char;
        }
        let result = (|| {
            cvt(libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req))
                .sys(|| "reading lo's flags".into())?;
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            cvt(libc::ioctl(sock, libc::SIOCSIFFLAGS, &req)).sys(|| "bringing lo up".into())?;
            Ok(())
        })();
        libc::close(sock);
        result
    }
}

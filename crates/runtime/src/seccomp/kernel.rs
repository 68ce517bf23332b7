//! The kernel version that a profile's `minKernel` is compared with: "<major>.<minor>" only,
//! as Docker does ("6.18.44-fc" and "6.18-rc5" are both 6.18).

use std::fmt;
use std::sync::OnceLock;

use super::error::SeccompError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> KernelVersion {
        KernelVersion { major, minor }
    }

    /// The running kernel's version, read once (uname) and remembered.
    pub fn running() -> Result<KernelVersion, SeccompError> {
        static RUNNING: OnceLock<Result<KernelVersion, String>> = OnceLock::new();
        RUNNING
            .get_or_init(|| {
                let release = release()?;
                KernelVersion::from_release(&release)
                    .ok_or_else(|| format!("cannot read a version in release {release:?}"))
            })
            .clone()
            .map_err(SeccompError::Kernel)
    }

    /// Reads the leading "<major>.<minor>" of a kernel release string such as "6.18.44-fc".
    pub fn from_release(release: &str) -> Option<KernelVersion> {
        let mut parts = release.splitn(3, '.');
        let major = leading_number(parts.next()?)?;
        let minor = leading_number(parts.next()?)?;
        Some(KernelVersion { major, minor })
    }

    /// Reads a profile's `minKernel`: exactly "<major>.<minor>", not 0.0.
    pub fn from_min_kernel(text: &str) -> Result<KernelVersion, String> {
        let bad =
            || format!("minKernel {text:?} is not of the form \"<major>.<minor>\" (e.g. \"4.8\")");
        let (major, minor) = text.split_once('.').ok_or_else(bad)?;
        let major: u32 = major.parse().map_err(|_| bad())?;
        let minor: u32 = minor.parse().map_err(|_| bad())?;
        if major == 0 && minor == 0 {
            return Err(bad());
        }
        Ok(KernelVersion { major, minor })
    }
}

/// uname(2)'s release field.
fn release() -> Result<String, String> {
    // SAFETY: utsname is plain bytes, for which all zeroes is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uts is a valid, writable utsname that outlives the call.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Err(format!("uname: {}", std::io::Error::last_os_error()));
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| u8::from_ne_bytes(c.to_ne_bytes()))
        .collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The digits a release part starts with: "18-rc5" is 18.
fn leading_number(part: &str) -> Option<u32> {
    let end = part
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(part.len());
    part[..end].parse().ok()
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_keep_major_and_minor_only() {
        let v = KernelVersion::from_release("6.18.44-fc-v1045").unwrap();
        assert_eq!(v, KernelVersion::new(6, 18));
        assert_eq!(
            KernelVersion::from_release("3.12-1-amd64"),
            Some(KernelVersion::new(3, 12))
        );
        assert_eq!(
            KernelVersion::from_release("6.19-rc5"),
            Some(KernelVersion::new(6, 19))
        );
        assert_eq!(KernelVersion::from_release("garbage"), None);
    }

    #[test]
    fn min_kernel_is_strict() {
        assert_eq!(
            KernelVersion::from_min_kernel("4.8"),
            Ok(KernelVersion::new(4, 8))
        );
        assert!(KernelVersion::from_min_kernel("4").is_err());
        assert!(KernelVersion::from_min_kernel("4.8.1").is_err());
        assert!(KernelVersion::from_min_kernel("0.0").is_err());
        assert!(KernelVersion::from_min_kernel("four.eight").is_err());
    }

    #[test]
    fn versions_order_numerically() {
        assert!(KernelVersion::new(4, 10) > KernelVersion::new(4, 8));
        assert!(KernelVersion::new(5, 0) > KernelVersion::new(4, 20));
        assert!(KernelVersion::running().unwrap() >= KernelVersion::new(4, 8));
    }
}

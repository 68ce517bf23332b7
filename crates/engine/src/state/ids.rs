//! Container ids: 256 random bits in hex, like Docker's.

/// The 12 characters of an id that Docker shows (all of a shorter one).
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

pub fn new_container_id() -> String {
    let mut buf = [0u8; 32];
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: getrandom into a valid buffer.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if let Ok(n) = usize::try_from(n) {
            filled += n;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number for name generation.
pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: getrandom into a valid buffer; on failure the zero value is still usable.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_64_hex_and_differ() {
        let a = super::new_container_id();
        let b = super::new_container_id();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}

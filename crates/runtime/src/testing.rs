//! What the runtime's tests share: the check that opens every test marked
//! `#[ignore = "needs root"]`, so that one run as another user fails at once and says why,
//! instead of passing without having tested anything.

/// Fails the calling test unless it runs as root; `why` says what it does that needs root.
pub(crate) fn assert_root(why: &str) {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test {why}: run it as root"
    );
}

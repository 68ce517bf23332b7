//! kist killed (SIGKILL) at points of its work: the next command makes sense of what is left.
//! A half-made container is either listed or gone, never both; nothing runs unrecorded.

mod common;
use common::*;
use std::time::Duration;

fn crash_at(k: &Kist, point: &str, args: &[&str]) {
    let out = k
        .command(args)
        .env("KIST_CRASH_AT", point)
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "kist {args:?} was to die at {point}: {}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs root"]
fn killed_after_making_directories_before_recording() {
    let k = Kist::with_busybox();
    crash_at(
        &k,
        "run:dirs",
        &["run", "-d", "--name", "half", "busybox", "sleep", "100"],
    );
    // Not listed, name free, nothing runs; its directory waits for system prune.
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    assert_eq!(k.entries("containers").len(), 1);
    let orphan = k
        .path()
        .join("containers")
        .join(&k.entries("containers")[0]);
    std::fs::File::open(&orphan)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    k.ok(&["system", "prune", "-f"]);
    k.ok(&["run", "--rm", "--name", "half", "busybox", "true"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn killed_after_recording_before_the_supervisor() {
    let k = Kist::with_busybox();
    crash_at(
        &k,
        "run:recorded",
        &["run", "-d", "--name", "rec", "busybox", "sleep", "100"],
    );
    // Listed as exited, with the reason; and it can be started as it is.
    let status = k.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
        "rec",
    ]);
    assert!(status.starts_with("exited 125 kist was killed"), "{status}");
    k.ok(&["start", "rec"]);
    assert_eq!(k.ok(&["ps", "--format", "{{.Names}}"]), "rec\n");
    k.ok(&["rm", "-f", "rec"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn killed_while_removing_a_running_container() {
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "victim", "busybox", "sleep", "1000"]);
    crash_at(&k, "rm:claimed", &["rm", "-f", "victim"]);
    // Its supervisor still runs it; it shows as being removed, and a retry finishes the job.
    assert!(k.ok(&["ps", "-a"]).contains("Removal In Progress"));
    k.ok(&["rm", "-f", "victim"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn killed_between_removing_files_and_the_record() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "gone", "busybox", "true"]);
    crash_at(&k, "rm:dirs", &["rm", "gone"]);
    // Nothing of it runs and its files are gone: the next command drops the record.
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn killed_before_start_launches() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "again", "busybox", "true"]);
    crash_at(&k, "start:launch", &["start", "again"]);
    assert!(k.ok(&["ps", "-a"]).contains("Exited (0)"));
    k.ok(&["start", "again"]);
    assert_eq!(k.ok(&["wait", "again"]), "0\n");
    k.ok(&["rm", "again"]);
    k.assert_clean();
}

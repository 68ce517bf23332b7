//! Many kist commands at once: every one succeeds or fails cleanly, and the store matches the
//! processes and directories that exist.

mod common;
use common::*;
use std::sync::Arc;

#[test]
#[ignore = "needs root"]
fn fifty_parallel_runs_with_colliding_names_then_fifty_parallel_removals() {
    let k = Arc::new(Kist::with_busybox());
    let runs: Vec<_> = (0..50)
        .map(|i| {
            let k = Arc::clone(&k);
            std::thread::spawn(move || {
                k.run(&[
                    "run",
                    "-d",
                    "--name",
                    &format!("n{}", i % 40),
                    "busybox",
                    "sleep",
                    "1000",
                ])
            })
        })
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(125), "{}", stderr(o));
        assert!(stderr(o).contains("already in use"), "{}", stderr(o));
        assert_eq!(stderr(o).lines().count(), 1);
    }
    assert_eq!(ok, 40, "one container per name");
    assert_eq!(k.ok(&["ps", "-q"]).lines().count(), 40);
    assert_eq!(
        k.ok(&["ps", "-aq"]).lines().count(),
        40,
        "no half-made container listed"
    );
    assert_eq!(supervisors(&k).len(), 40);
    assert_eq!(
        k.entries("containers").len(),
        40,
        "no directory without a container"
    );

    let removals: Vec<_> = (0..50)
        .map(|i| {
            let k = Arc::clone(&k);
            // Names that no id can start with: a second `rm -f c3` would take "c3" as an id
            // prefix, ambiguous when two of the forty ids begin with it.
            std::thread::spawn(move || k.run(&["rm", "-f", &format!("n{}", i % 40)]))
        })
        .collect();
    for o in removals.into_iter().map(|t| t.join().unwrap()) {
        // The second removal of a name finds it gone (or being removed): a clean failure.
        if !o.status.success() {
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(stderr(&o).contains("no such container"), "{}", stderr(&o));
        }
    }
    k.assert_clean();
    let start = std::time::Instant::now();
    while !supervisors(&k).is_empty() {
        assert!(
            start.elapsed().as_secs() < 15,
            "supervisors left: {:?}",
            supervisors(&k)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
#[ignore = "needs root"]
fn first_commands_on_a_new_store_all_open_it() {
    // Eight commands at once on a root that has no store yet: they all make it, or wait for
    // the one that does; none says "database is locked".
    for _ in 0..5 {
        let k = Kist::new();
        let children: Vec<_> = (0..8)
            .map(|_| {
                k.command(&["images", "-q"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
}

//! Tests of the whole way from profile to filter: compiled programs run in a BPF interpreter
//! and compared with a direct reading of the spec, then real filters installed in forked
//! children that make harmless syscalls (denied ones with arguments the kernel itself refuses,
//! so a filter that failed to load could do no harm).

use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSyscall};

use super::arch::{AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, Table};
use super::bpf::{check, run, run_counting};
use super::resolve::tests::docker_caps;
use super::*;

const KERNEL: KernelVersion = KernelVersion::new(6, 18);
const KILL_PROCESS: u32 = 0x8000_0000;
const ENOSYS: u32 = 0x0005_0000 | libc::ENOSYS as u32;
const EPERM: u32 = 0x0005_0000 | libc::EPERM as u32;
const ALLOW: u32 = 0x7FFF_0000;

fn with_sys_admin() -> Vec<String> {
    let mut caps = docker_caps();
    caps.push("CAP_SYS_ADMIN".into());
    caps
}

fn default_spec(caps: &[String]) -> LinuxSeccomp {
    Profile::docker_default().resolve_on(caps, Arch::ScmpArchX86_64, KERNEL)
}

fn spec(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).unwrap()
}

fn seccomp_data(arch: u32, nr: u32, args: [u64; 6]) -> [u8; 64] {
    let mut d = [0u8; 64];
    d[0..4].copy_from_slice(&nr.to_ne_bytes());
    d[4..8].copy_from_slice(&arch.to_ne_bytes());
    for (i, a) in args.iter().enumerate() {
        d[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
    }
    d
}

fn x86_64(name: &str) -> u32 {
    Table::X86_64.number(name).unwrap()
}

/// What the spec says a syscall gets, read directly (the semantics in `plan`'s doc).
fn reference(spec: &LinuxSeccomp, arch: u32, nr: u32, args: &[u64; 6]) -> u32 {
    let listed = spec.architectures().clone().unwrap_or_default();
    let default_errno = spec.default_errno_ret();
    let default = ret_of(spec.default_action(), default_errno, default_errno);
    let mut tables = vec![Table::of(native_arch()).unwrap()];
    tables.extend(listed.iter().filter_map(|a| Table::of(*a)));
    let Some(table) = tables.into_iter().find(|t| t.audit_arch() == arch) else {
        return KILL_PROCESS;
    };
    if table == Table::X86_64 && nr >= 0x4000_0000 {
        return if listed.contains(&Arch::ScmpArchX32) {
            default
        } else {
            KILL_PROCESS
        };
    }
    let rules = spec.syscalls().clone().unwrap_or_default();
    let names_it = |r: &&LinuxSyscall| r.names().iter().any(|n| table.number(n) == Some(nr));
    let conds = |r: &LinuxSyscall| r.args().clone().unwrap_or_default();
    let ret = |r: &LinuxSyscall| ret_of(r.action(), r.errno_ret(), default_errno);
    // Rules that say what the default says are skipped; the first without conditions decides.
    let live: Vec<&LinuxSyscall> = rules
        .iter()
        .filter(names_it)
        .filter(|r| ret(r) != default)
        .collect();
    if let Some(r) = live.iter().find(|r| conds(r).is_empty()) {
        return ret(r);
    }
    for r in live {
        if args_match(&conds(r), args, table.is_64bit()) {
            return ret(r);
        }
    }
    let stub = !matches!(
        spec.default_action(),
        LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog
    ) && default != ENOSYS;
    let top = rules
        .iter()
        .flat_map(|r| r.names())
        .filter_map(|n| table.number(n))
        .filter(|&n| table != Table::Arm || n < 0xF_0000)
        .max();
    if stub && top.is_some_and(|top| nr > top) {
        return ENOSYS;
    }
    default
}

fn ret_of(action: LinuxSeccompAction, errno: Option<u32>, default_errno: Option<u32>) -> u32 {
    match action {
        LinuxSeccompAction::ScmpActErrno => {
            action.as_u32(Some(errno.or(default_errno).unwrap_or(1)))
        }
        LinuxSeccompAction::ScmpActTrace => action.as_u32(Some(errno.unwrap_or(1))),
        other => other.as_u32(None),
    }
}

fn args_match(conds: &[LinuxSeccompArg], args: &[u64; 6], wide: bool) -> bool {
    use oci_spec::runtime::LinuxSeccompOperator as Op;
    let narrow = |v: u64| if wide { v } else { v & 0xFFFF_FFFF };
    let one = |c: &LinuxSeccompArg| {
        let (a, v, two) = (
            narrow(args[c.index()]),
            narrow(c.value()),
            narrow(c.value_two().unwrap_or(0)),
        );
        match c.op() {
            Op::ScmpCmpNe => a != v,
            Op::ScmpCmpLt => a < v,
            Op::ScmpCmpLe => a <= v,
            Op::ScmpCmpEq => a == v,
            Op::ScmpCmpGe => a >= v,
            Op::ScmpCmpGt => a > v,
            Op::ScmpCmpMaskedEq => a & v == two,
        }
    };
    let repeated = (0..6).any(|i| conds.iter().filter(|c| c.index() == i).count() > 1);
    if repeated {
        conds.iter().any(one)
    } else {
        conds.iter().all(one)
    }
}

/// Compiles `spec` and checks the program against `reference` for every (arch, nr, args).
fn assert_agrees(spec: &LinuxSeccomp, cases: impl Iterator<Item = (u32, u32, [u64; 6])>) -> usize {
    let filter = Filter::for_spec(spec).unwrap();
    let program = filter.instructions();
    check(program).unwrap();
    let mut count = 0;
    for (arch, nr, args) in cases {
        let got = run(program, &seccomp_data(arch, nr, args));
        let want = reference(spec, arch, nr, &args);
        assert_eq!(
            got, want,
            "arch {arch:#x} nr {nr} args {args:x?}: got {got:#x}, want {want:#x}"
        );
        count += 1;
    }
    count
}

/// Argument values around the constants of Docker's rules.
const ARG_VALUES: [u64; 18] = [
    0,
    1,
    8,
    37,
    38,
    39,
    40,
    41,
    0x2_0000,
    0x2_0008,
    0x40_0000,
    0x1000_0000,
    0x7E02_0000,
    0x0001_1200 | 0x11,
    0xFFFF_FFFF,
    0x1_0000_0000,
    0x1_0000_0008,
    u64::MAX,
];

fn default_profile_cases() -> impl Iterator<Item = (u32, u32, [u64; 6])> {
    let numbers = (0..1100u32).chain([
        0x3FFF_FFFF,
        0x4000_0000,
        0x4000_0000 | 39,
        0x4000_0000 | 602,
        0x7FFF_FFFF,
        0x8000_0000,
        0xF_0005,
        u32::MAX,
    ]);
    let x86 = |name| Table::X86.number(name).unwrap();
    let arg_checked = [
        x86_64("clone"),
        x86_64("socket"),
        x86_64("personality"),
        x86("clone"),
        x86("socket"),
        x86("personality"),
    ];
    numbers.flat_map(move |nr| {
        [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64]
            .into_iter()
            .flat_map(move |arch| {
                let values: &[u64] = if arg_checked.contains(&nr) {
                    &ARG_VALUES
                } else {
                    &[0]
                };
                values.iter().flat_map(move |&a0| {
                    values
                        .iter()
                        .map(move |&a1| (arch, nr, [a0, a1, 0, 0, 0, 0]))
                })
            })
    })
}

#[test]
fn default_profile_compiles_to_what_it_says() {
    let n = assert_agrees(&default_spec(&docker_caps()), default_profile_cases());
    assert!(n > 3000);
    assert_agrees(&default_spec(&with_sys_admin()), default_profile_cases());
}

#[test]
fn default_profile_semantics_on_x86_64() {
    let program = Filter::for_spec(&default_spec(&docker_caps())).unwrap();
    let get = |name: &str, args: [u64; 6]| {
        run(
            program.instructions(),
            &seccomp_data(AUDIT_ARCH_X86_64, x86_64(name), args),
        )
    };
    let none = [0; 6];
    assert_eq!(get("getpid", none), ALLOW);
    assert_eq!(get("mount", none), EPERM);
    assert_eq!(get("unshare", none), EPERM);
    assert_eq!(get("keyctl", none), EPERM);
    assert_eq!(get("io_uring_setup", none), EPERM);
    assert_eq!(get("clone3", none), ENOSYS);
    assert_eq!(
        get("clone", [0x11 | 0x0120_0000, 0, 0, 0, 0, 0]),
        ALLOW,
        "fork's flags"
    );
    assert_eq!(
        get("clone", [0x2_0000 | 0x11, 0, 0, 0, 0, 0]),
        EPERM,
        "CLONE_NEWNS"
    );
    assert_eq!(
        get("clone", [0x1000_0000, 0, 0, 0, 0, 0]),
        EPERM,
        "CLONE_NEWUSER"
    );
    assert_eq!(get("personality", [0xFFFF_FFFF, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(get("personality", [0x40_0000, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(get("socket", [libc::AF_INET as u64, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(get("socket", [libc::AF_VSOCK as u64, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(get("socket", [libc::AF_ALG as u64, 0, 0, 0, 0, 0]), EPERM);
    // The newest name in the profile on x86_64 is removexattrat (466): above it, ENOSYS.
    assert_eq!(get("removexattrat", none), ALLOW);
    assert_eq!(get("open_tree_attr", none), ENOSYS);
    assert_eq!(get("file_getattr", none), ENOSYS);
    // x32: no table, so the default action; another architecture: killed.
    let raw = |arch, nr| run(program.instructions(), &seccomp_data(arch, nr, none));
    assert_eq!(raw(AUDIT_ARCH_X86_64, 0x4000_0000 | 39), EPERM);
    assert_eq!(raw(AUDIT_ARCH_AARCH64, 172), KILL_PROCESS);
    // x86 (i386): its own numbers, socketcall allowed there.
    assert_eq!(
        raw(AUDIT_ARCH_I386, Table::X86.number("getpid").unwrap()),
        ALLOW
    );
    assert_eq!(
        raw(AUDIT_ARCH_I386, Table::X86.number("socketcall").unwrap()),
        ALLOW
    );
    assert_eq!(
        raw(AUDIT_ARCH_I386, Table::X86.number("keyctl").unwrap()),
        EPERM
    );
}

#[test]
fn default_profile_program_is_small_and_quick() {
    let filter = Filter::for_spec(&default_spec(&docker_caps())).unwrap();
    let len = filter.len();
    assert!((100..1000).contains(&len), "{len} instructions");
    // The longest path for a syscall that tests no argument: a binary search, not a chain.
    let longest = (0..600)
        .filter(|nr| ![x86_64("clone"), x86_64("socket"), x86_64("personality")].contains(nr))
        .map(|nr| {
            run_counting(
                filter.instructions(),
                &seccomp_data(AUDIT_ARCH_X86_64, nr, [0; 6]),
            )
            .1
        })
        .max()
        .unwrap();
    assert!(longest <= 16, "{longest} instructions on the longest path");
}

/// A tiny deterministic generator, so that the cases are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::try_from(self.next()).unwrap() % from.len()]
    }
}

#[test]
fn every_operator_on_both_halves() {
    let spec = spec(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7, "args": [
                {"index": 2, "value": 4294967296, "op": "SCMP_CMP_GT"},
                {"index": 0, "value": 5, "op": "SCMP_CMP_LE"}]},
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 2, "value": 10, "op": "SCMP_CMP_LT"}]},
            {"names": ["read"], "action": "SCMP_ACT_TRAP", "args": [
                {"index": 1, "value": 18446462598732841215, "valueTwo": 1311673391471657026, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["read"], "action": "SCMP_ACT_LOG", "args": [
                {"index": 3, "value": 18446744069414584320, "op": "SCMP_CMP_GE"}]},
            {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS", "args": [
                {"index": 4, "value": 3, "op": "SCMP_CMP_NE"},
                {"index": 5, "value": 9223372036854775809, "op": "SCMP_CMP_EQ"}]},
            {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 4294967298, "op": "SCMP_CMP_EQ"}]},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["close"], "action": "SCMP_ACT_TRACE", "errnoRet": 4, "args": [
                {"index": 0, "value": 4294967295, "op": "SCMP_CMP_GE"}]},
            {"names": ["close"], "action": "SCMP_ACT_ERRNO", "args": [
                {"index": 0, "value": 100, "op": "SCMP_CMP_GT"}]},
            {"names": ["open"], "action": "SCMP_ACT_ERRNO", "args": [
                {"index": 1, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3, "args": [
                {"index": 1, "value": 4294967296, "valueTwo": 4294967296, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["open"], "action": "SCMP_ACT_ALLOW"}
        ]}"#,
    );
    // Values at and around each constant, in both halves.
    let mut values = vec![0u64, u64::MAX];
    for c in [
        1u64,
        3,
        5,
        10,
        100,
        0xFFFF_FFFF,
        1 << 32,
        (1 << 32) + 2,
        0xFFFF_FFFF_0000_0000,
    ] {
        values.extend([
            c.wrapping_sub(1),
            c,
            c.wrapping_add(1),
            c ^ (1 << 32),
            c & 0xFFFF_FFFF,
        ]);
    }
    values.extend([
        0x1234_0000_0000_0042,
        0x1234_0000_0000_0043,
        0x1235_0000_0000_0042,
    ]);
    values.extend([0x8000_0000_0000_0001, 0x8000_0000_0000_0000, 1]);
    let mut rng = Lcg(42);
    let numbers_64 = [0u32, 1, 2, 3];
    let numbers_32 = [3u32, 4, 5, 6];
    let cases: Vec<(u32, u32, [u64; 6])> = (0..40_000)
        .map(|i| {
            let (arch, nr) = if i % 2 == 0 {
                (AUDIT_ARCH_X86_64, rng.pick(&numbers_64))
            } else {
                (AUDIT_ARCH_I386, rng.pick(&numbers_32))
            };
            let args = std::array::from_fn(|_| rng.pick(&values));
            (arch, nr, args)
        })
        .collect();
    assert_agrees(&spec, cases.into_iter());
}

/// A spec of `rules_per_call` two-condition rules on each of the first `calls` x86_64 syscalls.
fn big_spec(calls: usize, rules_per_call: u64) -> LinuxSeccomp {
    let syscalls: Vec<serde_json::Value> = syscalls::x86_64::Sysno::iter()
        .take(calls)
        .flat_map(|s| {
            let nr = u64::try_from(s.id()).unwrap();
            (0..rules_per_call).map(move |r| {
                serde_json::json!({
                    "names": [s.name()],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": (nr + r) % 4000 + 2,
                    "args": [
                        {"index": 0, "value": nr + r, "op": "SCMP_CMP_EQ"},
                        {"index": 1, "value": (nr << 32) | r, "op": "SCMP_CMP_GE"}
                    ]
                })
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": syscalls
    }))
    .unwrap()
}

#[test]
fn long_programs_use_long_jumps_and_stay_right() {
    let spec = big_spec(150, 2);
    let filter = Filter::for_spec(&spec).unwrap();
    assert!(filter.len() > 1500, "{} instructions", filter.len());
    assert!(
        filter.instructions().iter().any(|i| i.code == 0x05),
        "no long jump in a long program"
    );
    let mut rng = Lcg(7);
    let cases: Vec<_> = (0..20_000)
        .map(|_| {
            let nr = (rng.next() % 200) as u32;
            let a0 = u64::from(nr) + rng.next() % 3;
            let a1 = (u64::from(nr) << 32) | (rng.next() % 3);
            (
                AUDIT_ARCH_X86_64,
                nr,
                [a0, a1.wrapping_sub(rng.next() % 2), 0, 0, 0, 0],
            )
        })
        .collect();
    assert_agrees(&spec, cases.into_iter());
}

#[test]
fn programs_over_the_kernels_limit_are_refused() {
    let err = Filter::for_spec(&big_spec(360, 3)).unwrap_err().to_string();
    assert!(err.contains("4096"), "{err}");
}

#[test]
fn filters_round_trip_through_bytes() {
    let mut spec = default_spec(&docker_caps());
    spec.set_flags(Some(vec![
        oci_spec::runtime::LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow,
        oci_spec::runtime::LinuxSeccompFilterFlag::SeccompFilterFlagTsync,
    ]));
    let filter = Filter::for_spec(&spec).unwrap();
    assert_eq!(
        libc::c_ulong::from(filter.flags()),
        libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    );
    let bytes = filter.to_bytes();
    assert_eq!(Filter::from_bytes(&bytes).unwrap(), filter);

    let mut bad_magic = bytes.clone();
    bad_magic[0] ^= 1;
    let mut old_version = bytes.clone();
    old_version[8] = 0;
    let truncated = &bytes[..bytes.len() - 3];
    let mut bad_jump = bytes.clone();
    // The first instruction's jt (after the 20-byte header): past the end.
    bad_jump[20] = 0x15;
    bad_jump[22] = 255;
    for (what, b) in [
        ("magic", &bad_magic[..]),
        ("version", &old_version[..]),
        ("count", truncated),
        ("bad instruction", &bad_jump[..]),
    ] {
        let err = Filter::from_bytes(b).unwrap_err().to_string();
        assert!(err.starts_with("stored seccomp filter"), "{what}: {err}");
    }
}

#[test]
fn unsupported_features_are_clear_errors() {
    let err = Filter::for_spec(&spec(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("WAIT_KILLABLE_RECV"), "{err}");
    let err = Filter::for_spec(&spec(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#))
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOTIFY"), "{err}");
    let log = Filter::for_spec(&spec(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}"#,
    ))
    .unwrap();
    assert_eq!(
        libc::c_ulong::from(log.flags()),
        libc::SECCOMP_FILTER_FLAG_LOG
    );
}

/// Resolving and compiling the default profile, timed (`cargo test --release -p kist-runtime
/// seccomp_timing -- --nocapture` for figures), and the dispatch kept short: a syscall
/// without argument checks walks a few comparisons, not the whole list.
#[test]
fn seccomp_timing() {
    let caps = docker_caps();
    let rounds = if cfg!(debug_assertions) { 5u32 } else { 2000 };
    let start = std::time::Instant::now();
    let mut len = 0;
    for _ in 0..rounds {
        let spec = Profile::docker_default()
            .resolve(&caps, native_arch())
            .unwrap();
        len = Filter::for_spec(&spec).unwrap().len();
    }
    let each = start.elapsed() / rounds;
    let parse_start = std::time::Instant::now();
    for _ in 0..rounds.min(200) {
        Profile::from_json(DEFAULT_PROFILE_JSON).unwrap();
    }
    let parse = parse_start.elapsed() / rounds.min(200);
    let filter = Filter::for_spec(
        &Profile::docker_default()
            .resolve(&caps, native_arch())
            .unwrap(),
    )
    .unwrap();
    let native = Table::of(native_arch()).unwrap().audit_arch();
    let paths: Vec<usize> = (0..600)
        .map(|nr| run_counting(filter.instructions(), &seccomp_data(native, nr, [0; 6])).1)
        .collect();
    let longest = paths.iter().max().unwrap();
    let mean = paths.iter().sum::<usize>() as f64 / paths.len() as f64;
    println!(
        "default profile: resolve + compile {each:?}, parse {parse:?}, {len} instructions, \
         path for syscalls 0..600: mean {mean:.1}, longest {longest} instructions"
    );
    assert!(*longest < 40 && mean < 20.0, "a binary search, not a list");
}

/// A small profile in the layout of Podman's default (containers/common's seccomp.json):
/// ENOSYS by default with its name beside its number, `archMap`, errno names beside
/// `errnoRet`, empty `includes`/`excludes`/`comment`, `setns` both in the long allowed list
/// and in the list denied without CAP_SYS_ADMIN, `socket` split by CAP_AUDIT_WRITE.
const PODMAN_SHAPED: &str = r#"{
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "defaultErrno": "ENOSYS",
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
    ],
    "syscalls": [
        {"names": ["kexec_load", "nice"], "action": "SCMP_ACT_ERRNO", "args": [], "comment": "",
         "includes": {}, "excludes": {}, "errnoRet": 1, "errno": "EPERM"},
        {"names": ["getpid", "read", "setns", "write"], "action": "SCMP_ACT_ALLOW", "args": [],
         "comment": "", "includes": {}, "excludes": {}},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
         "comment": "", "includes": {}, "excludes": {}},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "",
         "includes": {"arches": ["amd64", "x32"]}, "excludes": {}},
        {"names": ["bpf", "setns"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "",
         "includes": {"caps": ["CAP_SYS_ADMIN"]}, "excludes": {}},
        {"names": ["bpf", "setns"], "action": "SCMP_ACT_ERRNO", "args": [], "comment": "",
         "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN"]}, "errnoRet": 1, "errno": "EPERM"},
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_EQ"},
                  {"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
         "comment": "", "includes": {}, "excludes": {"caps": ["CAP_AUDIT_WRITE"]},
         "errnoRet": 22, "errno": "EINVAL"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_NE"}],
         "comment": "", "includes": {}, "excludes": {"caps": ["CAP_AUDIT_WRITE"]}},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_NE"}],
         "comment": "", "includes": {}, "excludes": {"caps": ["CAP_AUDIT_WRITE"]}},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": null, "comment": "",
         "includes": {"caps": ["CAP_AUDIT_WRITE"]}, "excludes": {}}
    ]
}"#;

/// Podman's default capabilities (no CAP_SYS_ADMIN, no CAP_AUDIT_WRITE).
fn podman_caps() -> Vec<String> {
    [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP",
        "CAP_SETGID",
        "CAP_SETPCAP",
        "CAP_SETUID",
        "CAP_SYS_CHROOT",
    ]
    .map(String::from)
    .to_vec()
}

/// Podman's profile compiles, and means what libseccomp (so crun and runc) makes of it:
/// `setns` allowed by its first rule without conditions, the later EPERM ignored.
#[test]
fn a_podman_shaped_profile_means_what_libseccomp_makes_of_it() {
    let profile = Profile::from_json(PODMAN_SHAPED).unwrap();
    assert_eq!(profile.default_errno_ret, Some(38));
    assert_eq!(profile.syscalls[0].errno_ret, Some(1));
    let spec = profile.resolve_on(&podman_caps(), Arch::ScmpArchX86_64, KERNEL);
    let filter = Filter::for_spec(&spec).unwrap();
    let got = |name: &str, args: [u64; 6]| {
        run(
            filter.instructions(),
            &seccomp_data(AUDIT_ARCH_X86_64, x86_64(name), args),
        )
    };
    let einval = 0x0005_0000 | libc::EINVAL as u32;
    assert_eq!(got("setns", [0; 6]), ALLOW);
    assert_eq!(got("bpf", [0; 6]), EPERM);
    assert_eq!(got("kexec_load", [0; 6]), EPERM);
    assert_eq!(got("getpid", [0; 6]), ALLOW);
    assert_eq!(got("arch_prctl", [0; 6]), ALLOW);
    assert_eq!(got("personality", [0; 6]), ALLOW);
    assert_eq!(got("personality", [8, 0, 0, 0, 0, 0]), ENOSYS);
    assert_eq!(got("socket", [16, 3, 9, 0, 0, 0]), einval);
    assert_eq!(got("socket", [2, 1, 0, 0, 0, 0]), ALLOW);
    assert_eq!(got("mount", [0; 6]), ENOSYS);
    // With CAP_SYS_ADMIN and CAP_AUDIT_WRITE, bpf and every socket are allowed.
    let mut caps = podman_caps();
    caps.extend(["CAP_SYS_ADMIN".into(), "CAP_AUDIT_WRITE".into()]);
    let wide = profile.resolve_on(&caps, Arch::ScmpArchX86_64, KERNEL);
    let cases = (0..500u32).flat_map(|nr| {
        [[0; 6], [16, 3, 9, 0, 0, 0], [8, 0, 0, 0, 0, 0]]
            .into_iter()
            .map(move |args| (AUDIT_ARCH_X86_64, nr, args))
    });
    assert_agrees(&wide, cases.clone());
    assert_agrees(&spec, cases);
}

/// Names beside numbers must agree: a profile whose errno name says another number is refused.
#[test]
fn errno_names_that_contradict_their_numbers_are_refused() {
    let wrong = PODMAN_SHAPED.replacen(
        "\"defaultErrno\": \"ENOSYS\"",
        "\"defaultErrno\": \"EPERM\"",
        1,
    );
    let e = Profile::from_json(&wrong).unwrap_err().to_string();
    assert!(
        e.contains("defaultErrno") && e.contains("EPERM is 1, not 38"),
        "{e}"
    );
    let wrong = PODMAN_SHAPED.replacen("\"errno\": \"EINVAL\"", "\"errno\": \"EINVALID\"", 1);
    let e = Profile::from_json(&wrong).unwrap_err().to_string();
    assert!(
        e.contains("syscalls[6] (socket)") && e.contains("EINVALID"),
        "{e}"
    );
}

mod kernel {
    //! Filters installed for real, each in a forked child that reports what its syscalls
    //! returned through a pipe. Every denied call is made with arguments the kernel itself
    //! refuses, or with an effect confined to the child that is about to exit.

    use super::*;

    /// A probe makes one syscall and returns its errno, or 0 when it succeeded.
    type Probe = fn() -> i32;

    const MAX_PROBES: usize = 16;

    fn errno_of(ret: libc::c_long) -> i32 {
        if ret < 0 {
            // SAFETY: errno is thread-local and always readable.
            unsafe { *libc::__errno_location() }
        } else {
            0
        }
    }

    fn getpid() -> i32 {
        // SAFETY: getpid has no arguments and no effect.
        errno_of(unsafe { libc::syscall(libc::SYS_getpid) })
    }

    fn getppid() -> i32 {
        // SAFETY: as getpid.
        errno_of(unsafe { libc::syscall(libc::SYS_getppid) })
    }

    fn unshare_user() -> i32 {
        // SAFETY: a new user namespace for this child alone, which exits right after.
        errno_of(unsafe { libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER) })
    }

    fn mount_nothing() -> i32 {
        // SAFETY: NULL source, target and type: the kernel refuses it (EFAULT) if it sees it.
        errno_of(unsafe {
            libc::syscall(
                libc::SYS_mount,
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
                0,
                std::ptr::null::<u8>(),
            )
        })
    }

    fn keyctl_nothing() -> i32 {
        // SAFETY: an operation number that does not exist: EOPNOTSUPP from the kernel.
        errno_of(unsafe { libc::syscall(libc::SYS_keyctl, -1i64, 0, 0, 0, 0) })
    }

    fn clone_new_mount_ns() -> i32 {
        // SAFETY: CLONE_NEWNS with CLONE_FS is always EINVAL in the kernel: no process is made.
        errno_of(unsafe {
            libc::syscall(
                libc::SYS_clone,
                libc::CLONE_NEWNS | libc::CLONE_FS | libc::SIGCHLD,
                0,
                0,
                0,
                0,
            )
        })
    }

    fn plain_fork() -> i32 {
        // SAFETY: fork semantics (no stack given: the child runs on a copy of this one); the
        // child only exits.
        let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
        if pid == 0 {
            // SAFETY: ends the new child at once.
            unsafe { libc::syscall(libc::SYS_exit_group, 0) };
        }
        if pid < 0 {
            return errno_of(pid);
        }
        let mut status = 0;
        // SAFETY: waits for the child just made; status is a valid int.
        let waited = unsafe { libc::syscall(libc::SYS_wait4, pid, &mut status, 0, 0) };
        if waited != pid || status != 0 {
            return 1000;
        }
        0
    }

    fn personality_query() -> i32 {
        // SAFETY: 0xffffffff only reads the current persona.
        errno_of(unsafe { libc::syscall(libc::SYS_personality, 0xFFFF_FFFFu64) })
    }

    fn personality_read_implies_exec() -> i32 {
        // SAFETY: READ_IMPLIES_EXEC for this child alone, which exits right after.
        errno_of(unsafe { libc::syscall(libc::SYS_personality, 0x40_0000u64) })
    }

    fn clone3_nothing() -> i32 {
        // SAFETY: no clone_args at all: EINVAL from the kernel, no process.
        errno_of(unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0) })
    }

    /// file_getattr (Linux 6.17): the same number on every architecture since 5.1's unified
    /// numbering.
    const FILE_GETATTR: libc::c_long = 468;

    fn file_getattr_nothing() -> i32 {
        // SAFETY: a getter, on no file (-1, NULL) and with a size of 0: EINVAL or EBADF.
        errno_of(unsafe {
            libc::syscall(
                FILE_GETATTR,
                -1,
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
                0,
                0,
            )
        })
    }

    #[cfg(target_arch = "x86_64")]
    fn x32_getpid() -> i32 {
        // SAFETY: getpid in the x32 ABI: ENOSYS where the kernel has no x32, else getpid.
        errno_of(unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) })
    }

    /// How a child ended.
    #[derive(Debug, PartialEq, Eq)]
    enum Ended {
        /// It ran every probe: their results, in order.
        Ran(Vec<i32>),
        /// It was killed by this signal.
        Killed(i32),
        /// It could not install the filter: errno.
        NotInstalled(i32),
    }

    /// Forks a child that installs `filter` (with no_new_privs, so no root is needed) and runs
    /// `probes`. The child allocates nothing and makes only raw syscalls.
    fn in_child(filter: Option<&Filter>, probes: &[Probe]) -> Ended {
        assert!(probes.len() <= MAX_PROBES);
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let [read_end, write_end] = fds;
        // SAFETY: the child only makes async-signal-safe calls and leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            child(filter, probes, write_end);
        }
        // SAFETY: our copy of the write end, open and ours.
        unsafe { libc::close(write_end) };
        let mut buf = [0u8; 4 * MAX_PROBES];
        let mut got = 0;
        loop {
            // SAFETY: reads into the unread part of buf.
            let n =
                unsafe { libc::read(read_end, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
            match usize::try_from(n) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let mut status = 0;
        // SAFETY: waits for our own child; status is a valid int. Then closes our read end.
        unsafe {
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            libc::close(read_end);
        }
        if libc::WIFSIGNALED(status) {
            return Ended::Killed(libc::WTERMSIG(status));
        }
        match libc::WEXITSTATUS(status) {
            0 => {}
            code => return Ended::NotInstalled(code - 100),
        }
        assert_eq!(got, 4 * probes.len(), "short report");
        Ended::Ran(
            buf[..got]
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
                .collect(),
        )
    }

    fn child(filter: Option<&Filter>, probes: &[Probe], write_end: libc::c_int) -> ! {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: these prctls and the core limit only concern this child (no_new_privs, so
        // that an unprivileged test can install a filter; no core file when a test kills it);
        // `_exit` ends it without running the parent's atexit handlers or unwinding.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            if let Some(Err(e)) = filter.map(Filter::install) {
                libc::_exit(100 + e.raw_os_error().unwrap_or(0));
            }
            let mut results = [0i32; MAX_PROBES];
            for (slot, probe) in results.iter_mut().zip(probes) {
                *slot = probe();
            }
            libc::write(write_end, results.as_ptr().cast(), 4 * probes.len());
            libc::_exit(0)
        }
    }

    fn ran(ended: Ended) -> Vec<i32> {
        match ended {
            Ended::Ran(results) => results,
            other => panic!("the child did not run its probes: {other:?}"),
        }
    }

    fn default_filter(caps: &[String]) -> Filter {
        Filter::for_spec(
            &Profile::docker_default()
                .resolve(caps, native_arch())
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn the_default_profile_denies_what_docker_denies() {
        let filter = default_filter(&docker_caps());
        let probes: [Probe; 8] = [
            getpid,
            unshare_user,
            mount_nothing,
            keyctl_nothing,
            clone_new_mount_ns,
            plain_fork,
            personality_query,
            personality_read_implies_exec,
        ];
        let got = ran(in_child(Some(&filter), &probes));
        let eperm = libc::EPERM;
        assert_eq!(got, [0, eperm, eperm, eperm, eperm, 0, 0, eperm]);
        // Without the filter the kernel answers otherwise (where it refuses, with its own
        // errors), so the EPERMs above are the filter's.
        let bare = ran(in_child(None, &probes));
        assert_eq!(bare[2], libc::EFAULT, "mount(NULL, ...)");
        assert_eq!(bare[3], libc::EOPNOTSUPP, "keyctl(-1)");
        assert_eq!(bare[4], libc::EINVAL, "clone(CLONE_NEWNS|CLONE_FS)");
        assert_eq!(bare[7], 0, "personality(READ_IMPLIES_EXEC)");
    }

    #[test]
    fn clone3_gets_enosys_without_cap_sys_admin() {
        let probes: [Probe; 2] = [clone3_nothing, unshare_user];
        let got = ran(in_child(Some(&default_filter(&docker_caps())), &probes));
        assert_eq!(got, [libc::ENOSYS, libc::EPERM]);
        // With CAP_SYS_ADMIN in the set, the filter lets both through to the kernel: clone3
        // without arguments is EINVAL there; a user namespace for this child is allowed (or
        // refused by the kernel for its own reasons, never by the filter with ENOSYS).
        let got = ran(in_child(Some(&default_filter(&with_sys_admin())), &probes));
        assert_eq!(got[0], libc::EINVAL);
        assert_ne!(got[1], libc::ENOSYS);
    }

    #[test]
    fn syscalls_newer_than_the_profile_get_enosys() {
        let profile = Profile::docker_default();
        let native = Table::of(native_arch()).unwrap();
        let file_getattr = u32::try_from(FILE_GETATTR).unwrap();
        assert_eq!(native.number("file_getattr"), Some(file_getattr));
        assert!(!profile.names().any(|n| n == "file_getattr"));
        let newest = profile
            .names()
            .filter_map(|n| native.number(n))
            .max()
            .unwrap();
        assert!(newest < file_getattr, "the profile names {newest}");

        let bare = ran(in_child(None, &[file_getattr_nothing]));
        if bare[0] == libc::ENOSYS {
            eprintln!("kernel older than 6.17 (no file_getattr): the comparison is moot");
        } else {
            assert!(
                matches!(bare[0], libc::EINVAL | libc::EBADF | libc::EFAULT),
                "{bare:?}"
            );
        }
        let got = ran(in_child(
            Some(&default_filter(&docker_caps())),
            &[file_getattr_nothing],
        ));
        assert_eq!(got, [libc::ENOSYS]);
    }

    #[test]
    fn a_user_profile_sets_its_own_errno() {
        let profile = Profile::from_json(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99}]}"#,
        )
        .unwrap();
        let filter = Filter::for_profile(&profile, &docker_caps(), native_arch()).unwrap();
        let got = ran(in_child(Some(&filter), &[getppid, getpid]));
        assert_eq!(got, [99, 0]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_syscalls_are_refused() {
        // The default profile lists x32: its calls get the default action (EPERM), where the
        // kernel (without x32) would say ENOSYS.
        let got = ran(in_child(
            Some(&default_filter(&docker_caps())),
            &[x32_getpid, getpid],
        ));
        assert_eq!(got, [libc::EPERM, 0]);
        let bare = ran(in_child(None, &[x32_getpid]));
        assert_ne!(bare[0], libc::EPERM);
        // A profile without x32: the process is killed, as for any unlisted architecture.
        let no_x32 = Filter::for_spec(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"]}"#,
        ))
        .unwrap();
        assert_eq!(
            in_child(Some(&no_x32), &[x32_getpid]),
            Ended::Killed(libc::SIGSYS)
        );
    }

    #[test]
    fn kill_and_trap_actions_end_the_process() {
        for (action, signal) in [
            ("SCMP_ACT_KILL_PROCESS", libc::SIGSYS),
            ("SCMP_ACT_KILL", libc::SIGSYS),
            ("SCMP_ACT_TRAP", libc::SIGSYS),
        ] {
            let filter = Filter::for_spec(&spec(&format!(
                r#"{{"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{{"names": ["getppid"], "action": "{action}"}}]}}"#
            )))
            .unwrap();
            assert_eq!(
                in_child(Some(&filter), &[getppid]),
                Ended::Killed(signal),
                "{action}"
            );
        }
    }

    #[test]
    fn a_cached_filter_installs_like_the_original() {
        let filter = default_filter(&docker_caps());
        let cached = Filter::from_bytes(&filter.to_bytes()).unwrap();
        let got = ran(in_child(Some(&cached), &[getpid, mount_nothing]));
        assert_eq!(got, [0, libc::EPERM]);
    }
}

//! Docker's default capability set: the bounding set of a container that no `--cap-add`,
//! `--cap-drop` or `--privileged` changed. One list, which the engine gives containers and the
//! seccomp profile's tests resolve.

/// Docker's default capabilities, in Docker's order.
pub const DOCKER_DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

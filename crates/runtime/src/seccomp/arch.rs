//! The architectures a filter tells apart: their ids in `seccomp_data.arch`, the names profiles
//! give them, and their syscall numbers (from the `syscalls` crate's per-architecture tables).

use std::str::FromStr;

use oci_spec::runtime::Arch;

/// `AUDIT_ARCH_*` from <linux/audit.h>: what the kernel reports in `seccomp_data.arch`.
pub(crate) const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub(crate) const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub(crate) const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
pub(crate) const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

/// An x32 process's syscalls arrive as `AUDIT_ARCH_X86_64` with this bit set in their number.
pub(crate) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// ARM's private syscalls (`__ARM_NR_BASE` in the kernel's uapi <asm/unistd.h>), which the
/// `syscalls` crate's ARM table leaves out. They sit far above the ordinary numbers, so they do
/// not count when finding a profile's newest syscall (or the ENOSYS line would never be reached).
const ARM_PRIVATE_BASE: u32 = 0x000F_0000;
const ARM_PRIVATE: [(&str, u32); 6] = [
    ("breakpoint", ARM_PRIVATE_BASE + 1),
    ("cacheflush", ARM_PRIVATE_BASE + 2),
    ("usr26", ARM_PRIVATE_BASE + 3),
    ("usr32", ARM_PRIVATE_BASE + 4),
    ("set_tls", ARM_PRIVATE_BASE + 5),
    ("get_tls", ARM_PRIVATE_BASE + 6),
];

/// The architecture kist was built for, which is the one the kernel runs it as.
pub fn native_arch() -> Arch {
    NATIVE
}

#[cfg(target_arch = "x86_64")]
const NATIVE: Arch = Arch::ScmpArchX86_64;
#[cfg(target_arch = "aarch64")]
const NATIVE: Arch = Arch::ScmpArchAarch64;
// Elsewhere there is no table: compiling a filter fails with a clear error instead.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const NATIVE: Arch = Arch::ScmpArchNative;

/// The names `includes.arches` / `excludes.arches` may use for an architecture: libseccomp's
/// (what Docker's profiles use: "amd64", "arm64", ...) and the `SCMP_ARCH_*` form.
pub(crate) fn profile_names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::ScmpArchNative if NATIVE != Arch::ScmpArchNative => profile_names(NATIVE),
        Arch::ScmpArchNative => &[],
        Arch::ScmpArchX86 => &["x86", "SCMP_ARCH_X86"],
        Arch::ScmpArchX86_64 => &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
        Arch::ScmpArchX32 => &["x32", "SCMP_ARCH_X32"],
        Arch::ScmpArchArm => &["arm", "SCMP_ARCH_ARM"],
        Arch::ScmpArchAarch64 => &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
        Arch::ScmpArchMips => &["mips", "SCMP_ARCH_MIPS"],
        Arch::ScmpArchMips64 => &["mips64", "SCMP_ARCH_MIPS64"],
        Arch::ScmpArchMips64n32 => &["mips64n32", "SCMP_ARCH_MIPS64N32"],
        Arch::ScmpArchMipsel => &["mipsel", "mipsle", "SCMP_ARCH_MIPSEL"],
        Arch::ScmpArchMipsel64 => &["mipsel64", "SCMP_ARCH_MIPSEL64"],
        Arch::ScmpArchMipsel64n32 => &["mipsel64n32", "mips3l64n32", "SCMP_ARCH_MIPSEL64N32"],
        Arch::ScmpArchPpc => &["ppc", "SCMP_ARCH_PPC"],
        Arch::ScmpArchPpc64 => &["ppc64", "SCMP_ARCH_PPC64"],
        Arch::ScmpArchPpc64le => &["ppc64le", "SCMP_ARCH_PPC64LE"],
        Arch::ScmpArchS390 => &["s390", "SCMP_ARCH_S390"],
        Arch::ScmpArchS390x => &["s390x", "SCMP_ARCH_S390X"],
        Arch::ScmpArchParisc => &["parisc", "SCMP_ARCH_PARISC"],
        Arch::ScmpArchParisc64 => &["parisc64", "SCMP_ARCH_PARISC64"],
        Arch::ScmpArchRiscv64 => &["riscv64", "SCMP_ARCH_RISCV64"],
        Arch::ScmpArchLoongarch64 => &["loongarch64", "loong64", "SCMP_ARCH_LOONGARCH64"],
        Arch::ScmpArchM68k => &["m68k", "SCMP_ARCH_M68K"],
        Arch::ScmpArchSh => &["sh", "SCMP_ARCH_SH"],
        Arch::ScmpArchSheb => &["sheb", "SCMP_ARCH_SHEB"],
    }
}

/// A syscall table a filter can have a section for. Other architectures in a profile are left
/// out of the filter: on an x86_64 or aarch64 host the kernel never reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Table {
    X86_64,
    X86,
    Aarch64,
    Arm,
}

impl Table {
    /// The table for an architecture of a profile; x32 has none of its own (see `compile`).
    pub(crate) fn of(arch: Arch) -> Option<Table> {
        match arch {
            Arch::ScmpArchNative if NATIVE != Arch::ScmpArchNative => Table::of(NATIVE),
            Arch::ScmpArchX86_64 => Some(Table::X86_64),
            Arch::ScmpArchX86 => Some(Table::X86),
            Arch::ScmpArchAarch64 => Some(Table::Aarch64),
            Arch::ScmpArchArm => Some(Table::Arm),
            _ => None,
        }
    }

    pub(crate) fn audit_arch(self) -> u32 {
        match self {
            Table::X86_64 => AUDIT_ARCH_X86_64,
            Table::X86 => AUDIT_ARCH_I386,
            Table::Aarch64 => AUDIT_ARCH_AARCH64,
            Table::Arm => AUDIT_ARCH_ARM,
        }
    }

    /// Whether syscall arguments are 64 bits wide; on 32-bit ABIs only their low half counts.
    pub(crate) fn is_64bit(self) -> bool {
        matches!(self, Table::X86_64 | Table::Aarch64)
    }

    /// The number of a syscall on this architecture, or None if it has no such syscall (such
    /// names are skipped, as libseccomp does: profiles name every architecture's calls at once).
    pub(crate) fn number(self, name: &str) -> Option<u32> {
        let id = match self {
            Table::X86_64 => syscalls::x86_64::Sysno::from_str(name).ok().map(|s| s.id()),
            Table::X86 => syscalls::x86::Sysno::from_str(name).ok().map(|s| s.id()),
            Table::Aarch64 => syscalls::aarch64::Sysno::from_str(name)
                .ok()
                .map(|s| s.id()),
            Table::Arm => arm_number(name),
        };
        id.and_then(|id| u32::try_from(id).ok())
    }

    /// Whether a number counts when finding the newest syscall a profile knows.
    pub(crate) fn counts_for_horizon(self, number: u32) -> bool {
        self != Table::Arm || number < ARM_PRIVATE_BASE
    }
}

fn arm_number(name: &str) -> Option<i32> {
    // The kernel's ARM table calls 341 both arm_sync_file_range and sync_file_range2.
    let name = if name == "sync_file_range2" {
        "arm_sync_file_range"
    } else {
        name
    };
    if let Ok(sysno) = syscalls::arm::Sysno::from_str(name) {
        return Some(sysno.id());
    }
    ARM_PRIVATE
        .iter()
        .find(|(private, _)| *private == name)
        .and_then(|(_, number)| i32::try_from(*number).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_know_recent_syscalls() {
        // Linux 6.10 (mseal), 6.8 (listmount), 6.13 (setxattrat), 6.17 (file_getattr).
        assert_eq!(Table::X86_64.number("mseal"), Some(462));
        assert_eq!(Table::X86_64.number("listmount"), Some(458));
        assert_eq!(Table::X86_64.number("setxattrat"), Some(463));
        assert_eq!(Table::X86_64.number("file_getattr"), Some(468));
        assert_eq!(Table::Aarch64.number("file_getattr"), Some(468));
        assert_eq!(Table::X86.number("file_getattr"), Some(468));
    }

    #[test]
    fn numbering_differs_per_architecture() {
        assert_eq!(Table::X86_64.number("getpid"), Some(39));
        assert_eq!(Table::X86.number("getpid"), Some(20));
        assert_eq!(Table::Aarch64.number("getpid"), Some(172));
        assert_eq!(Table::Arm.number("getpid"), Some(20));
        // Names an architecture lacks are None, not errors.
        assert_eq!(Table::Aarch64.number("open"), None);
        assert_eq!(Table::X86_64.number("socketcall"), None);
        assert_eq!(Table::X86_64.number("no_such_call"), None);
    }

    #[test]
    fn arm_private_syscalls_are_known_but_not_the_horizon() {
        let set_tls = Table::Arm.number("set_tls");
        assert_eq!(set_tls, Some(0xF0005));
        assert!(!Table::Arm.counts_for_horizon(0xF0005));
        assert_eq!(Table::Arm.number("sync_file_range2"), Some(341));
        assert!(Table::Arm.counts_for_horizon(341));
    }

    #[test]
    fn native_arch_has_a_table() {
        assert!(Table::of(native_arch()).is_some());
        assert!(profile_names(native_arch()).len() >= 2);
    }
}

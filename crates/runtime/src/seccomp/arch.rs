//! The architectures a profile can name: the native one, and the names profiles give them.

use oci_spec::runtime::Arch;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_arch_has_names() {
        assert_ne!(native_arch(), Arch::ScmpArchNative);
        assert!(profile_names(native_arch()).len() >= 2);
        assert_eq!(profile_names(Arch::ScmpArchX86_64)[0], "amd64");
    }
}

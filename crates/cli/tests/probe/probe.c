/* A probe run inside test containers: it asks the kernel whether an operation is permitted
 * without ever doing anything harmful (NULL or invalid arguments, so that even a kernel that
 * permitted the call would change nothing) and prints "ok" or the errno's name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/keyctl.h>

static const char *name(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENOENT: return "ENOENT";
    case EROFS: return "EROFS";
    default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
    }
}

static int report(long r) {
    puts(r < 0 ? name(errno) : "ok");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *what = argv[1];
    /* Permission checks only: settimeofday(NULL, NULL) sets nothing. */
    if (!strcmp(what, "settimeofday")) return report(syscall(SYS_settimeofday, NULL, NULL));
    /* KEYCTL_GET_KEYRING_ID of the session keyring without creating one. */
    if (!strcmp(what, "keyctl")) return report(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    if (!strcmp(what, "unshare-user")) return report(unshare(CLONE_NEWUSER));
    if (!strcmp(what, "unshare-mount")) return report(unshare(CLONE_NEWNS));
    /* An invalid fstype: a kernel that let mount through would refuse it (ENODEV). */
    if (!strcmp(what, "mount")) return report(syscall(SYS_mount, "none", "/", "kist-no-such-fs", 0, NULL));
    /* A bad file descriptor: init_module's cousin refuses it even when permitted (EBADF). */
    if (!strcmp(what, "finit_module")) return report(syscall(SYS_finit_module, -1, "", 0));
    if (!strcmp(what, "personality-ok")) return report(personality(0xffffffff));
    if (!strcmp(what, "personality-bad")) return report(personality(0x0040000)); /* ADDR_COMPAT_LAYOUT query */
    /* A syscall newer than any the profile names: file_getattr (Linux 6.17) with bad args. */
    if (!strcmp(what, "newer-syscall")) return report(syscall(468, -1, NULL, NULL, 0, 0));
    /* Opens a path read-only without truncating, and closes it at once. */
    if (!strcmp(what, "open") && argc > 2) {
        int fd = open(argv[2], O_RDONLY | O_NONBLOCK);
        if (fd >= 0) close(fd);
        return report(fd);
    }
    if (!strcmp(what, "write-access") && argc > 2) return report(access(argv[2], W_OK));
    return 2;
}

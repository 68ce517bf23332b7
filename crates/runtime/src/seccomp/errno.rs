//! Errno names as Podman's profile (containers/common's format) spells them beside the
//! numbers (`defaultErrno`, `errno`): read so that such a profile is accepted, and checked
//! against the numbers so that the two cannot say different things.

/// Every Linux errno name, with the usual aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP).
const NAMES: &[(&str, libc::c_int)] = &[
    ("E2BIG", libc::E2BIG),
    ("EACCES", libc::EACCES),
    ("EADDRINUSE", libc::EADDRINUSE),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("EADV", libc::EADV),
    ("EAFNOSUPPORT", libc::EAFNOSUPPORT),
    ("EAGAIN", libc::EAGAIN),
    ("EALREADY", libc::EALREADY),
    ("EBADE", libc::EBADE),
    ("EBADF", libc::EBADF),
    ("EBADFD", libc::EBADFD),
    ("EBADMSG", libc::EBADMSG),
    ("EBADR", libc::EBADR),
    ("EBADRQC", libc::EBADRQC),
    ("EBADSLT", libc::EBADSLT),
    ("EBFONT", libc::EBFONT),
    ("EBUSY", libc::EBUSY),
    ("ECANCELED", libc::ECANCELED),
    ("ECHILD", libc::ECHILD),
    ("ECHRNG", libc::ECHRNG),
    ("ECOMM", libc::ECOMM),
    ("ECONNABORTED", libc::ECONNABORTED),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("ECONNRESET", libc::ECONNRESET),
    ("EDEADLOCK", libc::EDEADLOCK),
    ("EDESTADDRREQ", libc::EDESTADDRREQ),
    ("EDOM", libc::EDOM),
    ("EDOTDOT", libc::EDOTDOT),
    ("EDQUOT", libc::EDQUOT),
    ("EEXIST", libc::EEXIST),
    ("EFAULT", libc::EFAULT),
    ("EFBIG", libc::EFBIG),
    ("EHOSTDOWN", libc::EHOSTDOWN),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("EIDRM", libc::EIDRM),
    ("EILSEQ", libc::EILSEQ),
    ("EINPROGRESS", libc::EINPROGRESS),
    ("EINTR", libc::EINTR),
    ("EINVAL", libc::EINVAL),
    ("EIO", libc::EIO),
    ("EISCONN", libc::EISCONN),
    ("EISDIR", libc::EISDIR),
    ("EISNAM", libc::EISNAM),
    ("EKEYEXPIRED", libc::EKEYEXPIRED),
    ("EKEYREJECTED", libc::EKEYREJECTED),
    ("EKEYREVOKED", libc::EKEYREVOKED),
    ("EL2HLT", libc::EL2HLT),
    ("EL2NSYNC", libc::EL2NSYNC),
    ("EL3HLT", libc::EL3HLT),
    ("EL3RST", libc::EL3RST),
    ("ELIBACC", libc::ELIBACC),
    ("ELIBBAD", libc::ELIBBAD),
    ("ELIBEXEC", libc::ELIBEXEC),
    ("ELIBMAX", libc::ELIBMAX),
    ("ELIBSCN", libc::ELIBSCN),
    ("ELNRNG", libc::ELNRNG),
    ("ELOOP", libc::ELOOP),
    ("EMEDIUMTYPE", libc::EMEDIUMTYPE),
    ("EMFILE", libc::EMFILE),
    ("EMLINK", libc::EMLINK),
    ("EMSGSIZE", libc::EMSGSIZE),
    ("EMULTIHOP", libc::EMULTIHOP),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("ENAVAIL", libc::ENAVAIL),
    ("ENETDOWN", libc::ENETDOWN),
    ("ENETRESET", libc::ENETRESET),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ENFILE", libc::ENFILE),
    ("ENOANO", libc::ENOANO),
    ("ENOBUFS", libc::ENOBUFS),
    ("ENOCSI", libc::ENOCSI),
    ("ENODATA", libc::ENODATA),
    ("ENODEV", libc::ENODEV),
    ("ENOENT", libc::ENOENT),
    ("ENOEXEC", libc::ENOEXEC),
    ("ENOKEY", libc::ENOKEY),
    ("ENOLCK", libc::ENOLCK),
    ("ENOLINK", libc::ENOLINK),
    ("ENOMEDIUM", libc::ENOMEDIUM),
    ("ENOMEM", libc::ENOMEM),
    ("ENOMSG", libc::ENOMSG),
    ("ENONET", libc::ENONET),
    ("ENOPKG", libc::ENOPKG),
    ("ENOPROTOOPT", libc::ENOPROTOOPT),
    ("ENOSPC", libc::ENOSPC),
    ("ENOSR", libc::ENOSR),
    ("ENOSTR", libc::ENOSTR),
    ("ENOSYS", libc::ENOSYS),
    ("ENOTBLK", libc::ENOTBLK),
    ("ENOTCONN", libc::ENOTCONN),
    ("ENOTDIR", libc::ENOTDIR),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("ENOTNAM", libc::ENOTNAM),
    ("ENOTRECOVERABLE", libc::ENOTRECOVERABLE),
    ("ENOTSOCK", libc::ENOTSOCK),
    ("ENOTSUP", libc::ENOTSUP),
    ("ENOTTY", libc::ENOTTY),
    ("ENOTUNIQ", libc::ENOTUNIQ),
    ("ENXIO", libc::ENXIO),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("EOWNERDEAD", libc::EOWNERDEAD),
    ("EPERM", libc::EPERM),
    ("EPFNOSUPPORT", libc::EPFNOSUPPORT),
    ("EPIPE", libc::EPIPE),
    ("EPROTO", libc::EPROTO),
    ("EPROTONOSUPPORT", libc::EPROTONOSUPPORT),
    ("EPROTOTYPE", libc::EPROTOTYPE),
    ("ERANGE", libc::ERANGE),
    ("EREMCHG", libc::EREMCHG),
    ("EREMOTE", libc::EREMOTE),
    ("EREMOTEIO", libc::EREMOTEIO),
    ("ERESTART", libc::ERESTART),
    ("ERFKILL", libc::ERFKILL),
    ("EROFS", libc::EROFS),
    ("ESHUTDOWN", libc::ESHUTDOWN),
    ("ESOCKTNOSUPPORT", libc::ESOCKTNOSUPPORT),
    ("ESPIPE", libc::ESPIPE),
    ("ESRCH", libc::ESRCH),
    ("ESRMNT", libc::ESRMNT),
    ("ESTALE", libc::ESTALE),
    ("ESTRPIPE", libc::ESTRPIPE),
    ("ETIME", libc::ETIME),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("ETOOMANYREFS", libc::ETOOMANYREFS),
    ("ETXTBSY", libc::ETXTBSY),
    ("EUCLEAN", libc::EUCLEAN),
    ("EUNATCH", libc::EUNATCH),
    ("EUSERS", libc::EUSERS),
    ("EWOULDBLOCK", libc::EWOULDBLOCK),
    ("EXDEV", libc::EXDEV),
    ("EXFULL", libc::EXFULL),
];

/// The number of an errno name ("EPERM" is 1).
pub(crate) fn number(name: &str) -> Option<u32> {
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| u32::try_from(*v).ok())
}

/// The number a profile's entry means by `number` (its `errnoRet`) and `name` (its
/// `errno`): either alone, or both when they agree.
pub(crate) fn reconcile(
    number_given: Option<u32>,
    name: Option<&str>,
) -> Result<Option<u32>, String> {
    let Some(name) = name else {
        return Ok(number_given);
    };
    let named = number(name).ok_or_else(|| format!("unknown errno name {name:?}"))?;
    match number_given {
        Some(n) if n != named => Err(format!("{name} is {named}, not {n}")),
        _ => Ok(Some(named)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_agree_or_are_refused() {
        assert_eq!(number("EPERM"), Some(1));
        assert_eq!(number("ENOSYS"), Some(38));
        assert_eq!(number("EWOULDBLOCK"), number("EAGAIN"));
        assert_eq!(reconcile(Some(38), Some("ENOSYS")), Ok(Some(38)));
        assert_eq!(reconcile(None, Some("EINVAL")), Ok(Some(22)));
        assert_eq!(reconcile(Some(5), None), Ok(Some(5)));
        assert_eq!(
            reconcile(Some(1), Some("ENOSYS")),
            Err("ENOSYS is 38, not 1".into())
        );
        assert!(
            reconcile(None, Some("EPERMS"))
                .unwrap_err()
                .contains("EPERMS")
        );
    }
}

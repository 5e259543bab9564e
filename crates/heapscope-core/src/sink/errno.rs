//! Symbolic names of errno values (`ENOSPC`), as Node's `err.code` shows them.

/// The symbolic name of a Linux errno, or `"EUNKNOWN"`.
pub fn name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EPIPE => "EPIPE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::EDQUOT => "EDQUOT",
        libc::ENXIO => "ENXIO",
        libc::ENOTSUP => "ENOTSUP",
        _ => "EUNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_errors_users_meet() {
        assert_eq!(super::name(libc::ENOSPC), "ENOSPC");
        assert_eq!(super::name(libc::EACCES), "EACCES");
        assert_eq!(super::name(libc::ENOENT), "ENOENT");
        assert_eq!(super::name(-1), "EUNKNOWN");
    }
}

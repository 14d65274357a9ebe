//! Reading whole files, always with a bound: a path on the command line or in a config file
//! may name `/dev/zero`, a pipe that never ends or a file of gigabytes, and none of them may
//! cost more memory than the bound.

use std::io::{self, Read};
use std::path::Path;

/// patronictl.yaml / patroni.yml and patrol's config.toml: a real one is a few KiB.
pub const MAX_CONFIG: u64 = 1 << 20;
/// A theme file.
pub const MAX_THEME: u64 = 256 << 10;
/// A PEM file (CA bundle, certificate, key): a system CA bundle is about 200 KiB.
pub const MAX_PEM: u64 = 4 << 20;
/// Small system files (`/proc/self/status`, `/etc/passwd`; the latter can be long on big
/// hosts).
pub const MAX_SYSTEM: u64 = 16 << 20;

/// The whole file, or an error when it holds more than `max` bytes. At most `max + 1`
/// bytes are ever read, so a file that never ends (`/dev/zero`, a pipe) is refused by the
/// bound itself. The error says "the file is larger than N bytes"; callers add the path.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if u64::try_from(buf.len()).unwrap_or(u64::MAX) > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is larger than {max} bytes (not read)"),
        ));
    }
    Ok(buf)
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_bounded_string(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, max)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the file is not valid UTF-8".to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_bound_is_read_one_past_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").expect("write");
        assert_eq!(read_bounded(&p, 10).expect("10 bytes fit"), b"0123456789");
        let e = read_bounded(&p, 9).expect_err("10 bytes do not fit in 9");
        assert_eq!(e.to_string(), "the file is larger than 9 bytes (not read)");
    }

    #[test]
    fn a_file_that_never_ends_is_refused_by_the_bound() {
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).expect_err("endless");
        assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
    }

    #[test]
    fn text_must_be_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"a\xffb").expect("write");
        let e = read_bounded_string(&p, 100).expect_err("not UTF-8");
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }
}

//! Files ticketd makes or reads that hold secrets or personal data (the
//! data directory, the SQLite database, the master key): made readable by
//! their owner only, and a secret readable by others refused in
//! production (docs/SECURITY.md).

use std::path::Path;

/// Makes `dir` (and its missing parents) with mode 0700: a data directory
/// other users of the machine cannot list or enter. An existing directory
/// is left as it is (an operator may have chosen its mode).
pub fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Sets `file` to mode 0600 if it exists (SQLite makes its `-wal` and
/// `-shm` files with the database file's mode, so restricting the database
/// first restricts them too).
pub fn restrict(file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// The permission bits (`0o077` part) that let the file's group or other
/// users read, write or run it; `None` when it has none (or off Unix).
pub fn open_to_others(file: &Path) -> std::io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(None)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn given_a_new_data_dir_then_only_its_owner_may_enter_it() {
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("a").join("data");
        make_private_dir(&dir).expect("made");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
    }

    #[test]
    fn given_a_world_readable_file_when_restricted_then_it_is_0600_and_no_longer_open() {
        let root = tempfile::tempdir().expect("dir");
        let file = root.path().join("ticketd.db");
        std::fs::write(&file, b"x").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(open_to_others(&file).expect("stat"), Some(0o644));
        restrict(&file).expect("restricted");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(open_to_others(&file).expect("stat"), None);
        restrict(&root.path().join("missing-wal")).expect("a missing file is fine");
    }
}

//! File helpers shared by the importer: checksums and writes that are on disk before the
//! staged model directory is renamed into place.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::{ModelError, Result};

/// Lowercase hex sha256 of a byte slice.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lowercase hex sha256 of a file, read in chunks so large files cost no memory.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| ModelError::io("cannot open", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| ModelError::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Creates `path` with `bytes` and flushes it to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(|e| ModelError::io("cannot create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ModelError::io("cannot write", path, e))
}

/// Copies `src` to `dst` and flushes the copy to disk.
pub(crate) fn copy_synced(src: &Path, dst: &Path) -> Result<()> {
    std::fs::copy(src, dst).map_err(|e| ModelError::io("cannot copy", src, e))?;
    sync_file(dst)
}

/// Flushes an already written file to disk.
pub(crate) fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| ModelError::io("cannot sync", path, e))
}

/// Flushes a directory's entries (new names, renames) to disk. Best effort: not every
/// platform can open a directory for syncing, and the data files are already synced.
pub(crate) fn sync_dir(path: &Path) {
    if let Ok(dir) = File::open(path) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_synced(&path, b"abc").unwrap();
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), expected);
        assert_eq!(sha256_file(&path).unwrap(), expected);
        let copy = dir.path().join("g");
        copy_synced(&path, &copy).unwrap();
        assert_eq!(sha256_file(&copy).unwrap(), expected);
    }
}

//! Reads a file of an image without mounting it: the top-most layer that has it wins, and a
//! whiteout hides it from the layers below. Used to read `/etc/passwd` and `/etc/group` for `-u`.

use std::io::Read;

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

use crate::store::Image;

impl Image {
    /// The content of `path` (absolute, inside the image), or None when no layer has it.
    pub fn read_file(&self, path: &str) -> Option<Vec<u8>> {
        let rel = path.trim_start_matches('/');
        for layer in self.layers.iter().rev() {
            let Ok(root) = rustix::fs::open(
                &layer.dir,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            let opened = rustix::fs::openat2(
                &root,
                rel,
                OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
            );
            let Ok(fd) = opened else { continue };
            let Ok(st) = rustix::fs::fstat(&fd) else {
                continue;
            };
            if FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice && st.st_rdev == 0 {
                return None; // a whiteout
            }
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return None;
            }
            let mut out = Vec::new();
            std::fs::File::from(fd).read_to_end(&mut out).ok()?;
            return Some(out);
        }
        None
    }
}

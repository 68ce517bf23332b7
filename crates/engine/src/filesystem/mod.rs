//! A container's files as seen from outside it: named volumes, `cp` in and out, `commit` of its
//! write layer as an image, `export` of its whole tree.

pub mod commit;
pub mod cp;
pub mod export;
mod image_changes;
pub mod volumes;

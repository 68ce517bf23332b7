//! kist's image store: content-addressed blobs in an OCI image layout, layers unpacked once into
//! read-only directories keyed by chain id, and the import of root filesystem tarballs.
//!
//! Nothing here knows about containers or the command line.

mod archive;
mod build_cache;
mod compression;
mod digest;
mod error;
mod gc;
mod import;
mod layer_file;
mod layer_tar;
mod reference;
pub mod registry;
mod store;
mod temp;
pub use temp::TempDir;
mod unpack;

pub use archive::{ArchiveFormat, LoadedImage, SavedImage, load, save};
pub use digest::{Digest, HashingReader, chain_ids};
pub use error::{Error, Result};
pub use gc::{Collected, StoreLock};
pub use import::{
    ExpectedLayer, ImportOutcome, LayerCommit, NewLayer, add_layer, add_layer_expecting,
    extend_image, import_rootfs_tarball, now, oci_architecture, write_image,
};
pub use layer_tar::{TreeKind, write_entry, write_tree};
pub use reference::Reference;
pub use store::{Descriptor, Image, ImageStore, ImageSummary, Layer};
pub use unpack::{UnpackStats, unpack_layer};

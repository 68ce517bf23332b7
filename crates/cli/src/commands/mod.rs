//! Every command's arguments and handler: a module per group of commands (containers, images,
//! registries, volumes, kist itself), and `inspect`, which spans containers and images.

pub mod container;
pub mod image;
pub mod inspect;
pub mod registry;
pub mod system;
pub mod volume;

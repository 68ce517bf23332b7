//! Every command's arguments and handler, a module per group of commands, as `kist --help`
//! lists them: containers, images, registries, volumes, kist itself.

pub mod container;
pub mod image;
pub mod inspect;
pub mod registry;
pub mod system;
pub mod volume;

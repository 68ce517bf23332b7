//! Every command's arguments and handler: a module per group of commands (containers, images,
//! registries, volumes, kist itself), `inspect`, which spans containers and images, and
//! `completion`, what shells and man read about all of them.

pub mod completion;
pub mod container;
pub mod image;
pub mod inspect;
pub mod network;
pub mod registry;
pub mod system;
pub mod volume;

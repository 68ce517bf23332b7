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

/// Removes `names` a name at a time, printing each one removed; each failure is one line and
/// makes the status 1, as Docker does (`volume rm`, `network rm`).
pub fn remove_each<T, E: std::fmt::Display>(
    names: &[String],
    mut remove: impl FnMut(&str) -> std::result::Result<T, E>,
) -> i32 {
    let mut code = 0;
    for n in names {
        match remove(n) {
            Ok(_) => outln!("{n}"),
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    code
}

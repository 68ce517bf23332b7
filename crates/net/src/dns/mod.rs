//! The DNS responder containers reach at 127.0.0.11: names of containers answered from
//! kist's own table, the rest forwarded to the host's resolvers. Messages are parsed and
//! built with hickory-proto; the loop is blocking, on a socket the caller made.

mod answer;
mod forward;
mod names;
mod resolv_conf;
mod server;

pub use answer::{answer, failure};
pub use forward::Upstreams;
pub use names::{Lookup, Names};
pub use resolv_conf::nameservers;
pub use server::{bind_ahead, respond, serve, serve_one};

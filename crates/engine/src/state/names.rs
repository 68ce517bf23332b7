//! Generated names for containers given none, in Docker's adjective_surname style.

use crate::state::ids::random_u32;

const ADJECTIVES: [&str; 32] = [
    "admiring",
    "agitated",
    "amazing",
    "awesome",
    "blissful",
    "bold",
    "brave",
    "busy",
    "clever",
    "cool",
    "dazzling",
    "eager",
    "ecstatic",
    "elated",
    "epic",
    "festive",
    "focused",
    "gallant",
    "gifted",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "quirky",
    "relaxed",
    "serene",
    "stoic",
    "vibrant",
    "zen",
];

const SURNAMES: [&str; 32] = [
    "albattani",
    "babbage",
    "bohr",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euler",
    "fermat",
    "feynman",
    "galileo",
    "gauss",
    "hopper",
    "hypatia",
    "kepler",
    "knuth",
    "lamport",
    "lovelace",
    "mccarthy",
    "meitner",
    "newton",
    "noether",
    "pascal",
    "ritchie",
    "shannon",
    "thompson",
    "torvalds",
    "turing",
    "wiles",
    "wozniak",
    "yonath",
    "zuse",
];

/// A fresh name; `attempt` > 0 adds a number, as Docker does after a collision.
pub fn generate(attempt: u32) -> String {
    let r = random_u32();
    let base = format!(
        "{}_{}",
        ADJECTIVES[(r % 32) as usize],
        SURNAMES[((r >> 8) % 32) as usize]
    );
    if attempt == 0 {
        base
    } else {
        format!("{base}{}", (r >> 16) % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::names::is_valid;

    #[test]
    fn generated_names_are_valid() {
        for i in 0..20 {
            let n = generate(i % 2);
            assert!(is_valid(&n), "{n}");
            assert!(n.contains('_'));
        }
    }
}

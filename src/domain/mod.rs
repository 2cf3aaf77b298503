//! The vocabulary of a choice session, as types that can only hold valid values.
//!
//! Everything that comes from outside (a CSV cell, an email address in a
//! header, a token in a plus address) is turned into one of these types with
//! `parse()` at the edge; the rest of the program then never re-checks it.
//! The French words of the specification (DES, n° ARS, rang…) are given in
//! each type's documentation.

mod ars_id;
mod choice_type;
mod email;
mod group;
mod rank;
mod records;
mod text;
mod token;

pub use ars_id::ArsId;
pub use choice_type::ChoiceType;
pub use email::Email;
pub use group::Group;
pub use rank::Rank;
pub use records::{Intern, Post, PreChoice};
pub use text::normalize_key;
pub use token::Token;

//! The one integration-test binary: each module tests one capability from
//! the outside, through the library's public API or the `choixbot` binary.

mod allocation;
mod ars_list;
mod helpers;
mod import;
mod mailbox;
mod reply_golden;
mod smtp;

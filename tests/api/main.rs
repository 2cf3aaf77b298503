//! The one integration-test binary: each module tests one capability from
//! the outside, through the library's public API or the `choixbot` binary.

mod allocation;
mod answer;
mod ars_list;
mod check;
mod cli_import;
mod cli_session;
mod commands;
mod crowd;
mod deadline;
mod doubts;
mod faults_concurrency;
mod faults_crash;
mod faults_duplicates;
mod faults_imap;
mod faults_input;
mod faults_loops;
mod faults_network;
mod faults_proxy;
mod faults_second_client;
mod faults_smtp;
mod faults_smtp_script;
mod faults_spoofing;
mod helpers;
mod import;
mod lease;
mod mail_helpers;
mod mail_loop;
mod mailbox;
mod oauth;
mod other_client;
mod outbox;
mod personal_data;
mod reply_golden;
mod smtp;
mod web;

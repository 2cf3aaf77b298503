//! Commands by email (SPEC §11): `STATUT`, `POSTES`, `ANNULER`,
//! `PROCURATION adresse` / `PROCURATION AUCUNE`, `ACCEPTE`, `AIDE`,
//! `NOTIFS NON` / `NOTIFS OUI`, and in the amphi `ABSENT` and `PLUS TARD`
//! (`LATER`), each with its English alias, matched case-
//! and accent-insensitively.
//!
//! Where a command is read, in this order:
//! 1. the first line the intern wrote (after a greeting line such as
//!    "Bonjour,");
//! 2. the subject, after its `Re:`/`TR:`/`Fwd:` prefixes and without the
//!    personal reference, but only when the intern's text holds no number
//!    in choice position: a list in the body always wins over a subject.
//!
//! The grammar is deliberately narrow, because a command read where the
//! intern wrote a list would leave their list unrecorded. A line is a
//! command when it is the command word, its argument if it takes one, and
//! at most a few words of politeness ("STATUT svp", "Annuler mes vœux").
//! Any digit on the line, or a line ending with ':' (a heading such as
//! "Postes :" above a list), makes it no command. `ACCEPTE` is the one
//! exception: the proxy's "Oui, j'accepte la procuration" is an acceptance,
//! and it only means something from an address that was asked.

use crate::domain::{normalize_key, Email};

/// What an intern (or their proxy) asks for instead of sending a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `STATUT`: the wishes on record and the provisional result.
    Status,
    /// `POSTES`: the group's posts, places left, obtainable at one's rank.
    Posts,
    /// `ANNULER`: withdraw the wishes.
    Cancel,
    /// `PROCURATION …`: designate, or revoke, a proxy.
    Proxy(ProxyTarget),
    /// `ACCEPTE`: a designated proxy accepts.
    Accept,
    /// `AIDE`: how to answer, and the commands.
    Help,
    /// `NOTIFS OUI` (true) / `NOTIFS NON` (false): displacement notices.
    Notices(bool),
    /// `ABSENT`: in the amphi, the intern will not choose at their turn.
    Absent,
    /// `PLUS TARD`: in the amphi, call the intern after the last of their
    /// group.
    Later,
}

/// The argument of `PROCURATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyTarget {
    /// `PROCURATION adresse@domaine`.
    Address(Email),
    /// `PROCURATION AUCUNE`: revoke the proxy.
    Nobody,
    /// `PROCURATION` followed by something that is no address (kept, to
    /// quote it in the refusal).
    Unreadable(String),
}

impl Command {
    /// The command's French word, as the answers and the audit name it.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Status => "STATUT",
            Self::Posts => "POSTES",
            Self::Cancel => "ANNULER",
            Self::Proxy(_) => "PROCURATION",
            Self::Accept => "ACCEPTE",
            Self::Help => "AIDE",
            Self::Notices(_) => "NOTIFS",
            Self::Absent => "ABSENT",
            Self::Later => "PLUS TARD",
        }
    }

    /// Whether the command only reads (it changes nothing on record).
    pub fn reads_only(&self) -> bool {
        matches!(self, Self::Status | Self::Posts | Self::Help)
    }
}

/// Words allowed after an argument-less command: "STATUT svp", "ANNULER mes
/// vœux", "HELP please". Folded by [`normalize_key`].
const POLITENESS: [&str; 22] = [
    "svp", "stp", "s", "il", "vous", "te", "plait", "merci", "please", "thanks", "thank", "you", "mes", "my",
    "voeux", "choix", "wishes", "choices", "list", "liste", "ma", "la",
];

/// Greeting lines skipped before the command line.
const GREETINGS: [&str; 10] =
    ["bonjour", "bonsoir", "salut", "hello", "hi", "coucou", "madame", "monsieur", "cher", "chere"];

/// The command in the intern's own text, else in the subject (when the own
/// text holds no choice number, `has_numbers` false).
pub(crate) fn find(own_text: &str, subject: &str, has_numbers: bool) -> Option<(Command, &'static str)> {
    if let Some(command) = first_line(own_text).and_then(read_line) {
        return Some((command, "the first line of the intern's text"));
    }
    if has_numbers {
        return None;
    }
    read_line(&bare_subject(subject)).map(|command| (command, "the subject"))
}

/// The first line the intern wrote that is not a greeting.
fn first_line(text: &str) -> Option<&str> {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next()?;
    if is_greeting(first) {
        return lines.next();
    }
    Some(first)
}

fn is_greeting(line: &str) -> bool {
    let key = normalize_key(line);
    let first = key.split('_').next().unwrap_or("");
    line.chars().count() <= 40 && !line.chars().any(|c| c.is_ascii_digit()) && GREETINGS.contains(&first)
}

/// The subject without reply and forward prefixes, and without the
/// personal reference our subjects end with.
fn bare_subject(subject: &str) -> String {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        let prefix = ["re", "tr", "fwd", "fw", "aw", "wg", "réf"]
            .iter()
            .filter(|p| lower.starts_with(*p))
            .find_map(|p| lower[p.len()..].trim_start().strip_prefix(':').map(|after| after.len()));
        match prefix {
            Some(after_len) => rest = rest[rest.len() - after_len..].trim_start(),
            None => break,
        }
    }
    let rest = match rest.find(" – réf.").or_else(|| rest.find(" - réf.")) {
        Some(at) => &rest[..at],
        None => rest,
    };
    rest.trim().to_string()
}

/// The command a line is, if it is one (see the module comment).
fn read_line(line: &str) -> Option<Command> {
    let line = line.trim();
    if line.ends_with(':') {
        return None;
    }
    let mut words = line.split_whitespace();
    let word = normalize_key(words.next()?);
    let rest: Vec<&str> = words.collect();
    match word.as_str() {
        "statut" | "status" => plain(Command::Status, &rest),
        "postes" | "posts" => plain(Command::Posts, &rest),
        "annuler" | "cancel" => plain(Command::Cancel, &rest),
        "aide" | "help" => plain(Command::Help, &rest),
        "accepte" | "accepter" | "oui" | "accept" | "j_accepte" => {
            (!line.chars().any(|c| c.is_ascii_digit())).then_some(Command::Accept)
        }
        "procuration" | "proxy" => Some(Command::Proxy(proxy_target(&rest))),
        "notifs" | "notif" | "notifications" => notices(&rest),
        "absent" | "absente" => plain(Command::Absent, &rest),
        "later" => plain(Command::Later, &rest),
        "plus" if rest.first().is_some_and(|word| normalize_key(word) == "tard") => {
            plain(Command::Later, &rest[1..])
        }
        _ => None,
    }
}

/// An argument-less command, with nothing after it but politeness.
fn plain(command: Command, rest: &[&str]) -> Option<Command> {
    let key = normalize_key(&rest.join(" "));
    let polite = key.is_empty() || key.split('_').all(|word| POLITENESS.contains(&word));
    polite.then_some(command)
}

fn proxy_target(rest: &[&str]) -> ProxyTarget {
    let Some(first) = rest.first() else { return ProxyTarget::Unreadable(String::new()) };
    let word = first.trim_end_matches(['.', ',', ';', '!']);
    if matches!(normalize_key(word).as_str(), "aucune" | "aucun" | "none" | "personne" | "nobody") {
        return ProxyTarget::Nobody;
    }
    match Email::parse(word.trim_start_matches(['<', '(']).trim_end_matches(['>', ')'])) {
        Ok(address) => ProxyTarget::Address(address),
        Err(_) => ProxyTarget::Unreadable(rest.join(" ")),
    }
}

fn notices(rest: &[&str]) -> Option<Command> {
    let word = normalize_key(rest.first()?);
    match word.as_str() {
        "oui" | "on" | "yes" => Some(Command::Notices(true)),
        "non" | "off" | "no" => Some(Command::Notices(false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{find, Command, ProxyTarget};
    use crate::domain::Email;

    fn body(text: &str) -> Option<Command> {
        find(text, "Re: Choix de stage – Semestre – réf. abcdefghijklmnop", false).map(|(c, _)| c)
    }

    #[test]
    fn every_word_and_alias_in_any_case_and_accent() {
        for (text, command) in [
            ("STATUT", Command::Status),
            ("status", Command::Status),
            ("Postes", Command::Posts),
            ("POSTS", Command::Posts),
            ("annuler", Command::Cancel),
            ("CANCEL", Command::Cancel),
            ("Aide", Command::Help),
            ("HELP", Command::Help),
            ("ACCEPTE", Command::Accept),
            ("Accepté", Command::Accept),
            ("oui", Command::Accept),
            ("ACCEPT", Command::Accept),
            ("NOTIFS NON", Command::Notices(false)),
            ("ABSENT", Command::Absent),
            ("Absente", Command::Absent),
            ("PLUS TARD", Command::Later),
            ("plus tard svp", Command::Later),
            ("LATER", Command::Later),
            ("notifs oui", Command::Notices(true)),
            ("PROCURATION AUCUNE", Command::Proxy(ProxyTarget::Nobody)),
            (
                "procuration Marie.Curie@Exemple.fr",
                Command::Proxy(ProxyTarget::Address(Email::parse("marie.curie@exemple.fr").unwrap())),
            ),
        ] {
            assert_eq!(body(text), Some(command), "{text}");
        }
    }

    #[test]
    fn politeness_and_a_greeting_line_are_allowed() {
        assert_eq!(body("Bonjour,\nSTATUT svp\nMerci"), Some(Command::Status));
        assert_eq!(body("Annuler mes vœux, merci"), Some(Command::Cancel));
        assert_eq!(body("Oui, j'accepte la procuration."), Some(Command::Accept));
    }

    #[test]
    fn a_list_under_a_heading_is_no_command() {
        assert_eq!(body("Postes :\n1234\n5678"), None);
        assert_eq!(body("Postes choisis\n1234"), None);
        assert_eq!(body("Postes 1234 et 5678"), None);
        assert_eq!(body("Oui pour le 1234"), None);
        assert_eq!(body("Statut surnombre, je prends 1234"), None);
        assert_eq!(body("NOTIFS"), None);
        assert_eq!(body("Plus tôt que prévu : 1234"), None);
        assert_eq!(body("Absent le 1234"), None);
    }

    #[test]
    fn the_subject_counts_only_without_numbers_in_the_text() {
        assert_eq!(find("", "RE : TR: statut", false).map(|c| c.0), Some(Command::Status));
        assert_eq!(find("", "Re: POSTES – réf. abcdefghijklmnop", false).map(|c| c.0), Some(Command::Posts));
        assert_eq!(find("1234", "STATUT", true), None);
        assert_eq!(find("", "Re: Choix de stage – Semestre – réf. abcdefghijklmnop", false), None);
    }

    #[test]
    fn an_unreadable_proxy_address_is_kept_to_be_quoted() {
        assert_eq!(body("PROCURATION marie"), Some(Command::Proxy(ProxyTarget::Unreadable("marie".into()))));
    }
}

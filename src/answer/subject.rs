//! The subjects of choixbot's emails. Constants in code, not templates: the
//! reply parser reads the personal reference after `réf.` in the subject of
//! a reply, so the shape of the invitation's subject is part of the
//! protocol and a referent must not be able to reword it away.

/// `Choix de stage – Semestre d'été 2020 – réf. TOKEN`.
pub fn invitation(session: &str, token: &str) -> String {
    format!("Choix de stage – {session} – réf. {token}")
}

/// `Re: ` and the subject answered, kept whole so the `réf.` stays in it;
/// no `Re: Re: ` pile-up when the intern's subject already starts so.
///
/// The original comes from a stranger's message: control characters (a
/// line break could start a header of their choosing) become spaces.
pub fn answer(original: &str) -> String {
    let original: String = original.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let original = original.trim();
    let lower = original.to_lowercase();
    if lower.starts_with("re:") || lower.starts_with("re :") {
        original.to_string()
    } else if original.is_empty() {
        "Re: Choix de stage".to_string()
    } else {
        format!("Re: {original}")
    }
}

/// The final result, sent to each intern at the close.
pub fn result(session: &str, token: &str) -> String {
    format!("Résultat des choix de stage – {session} – réf. {token}")
}

/// The vacant-posts notice.
pub fn vacancies(session: &str, token: &str) -> String {
    format!("Postes restés vacants – {session} – réf. {token}")
}

/// To an address an intern designated as proxy; the reference is the
/// request's own, so the `ACCEPTE` that answers it names the request.
pub fn proxy_request(session: &str, token: &str) -> String {
    format!("Demande de procuration – {session} – réf. {token}")
}

/// To a proxy whose role ended, or whose request was withdrawn.
pub fn proxy(session: &str) -> String {
    format!("Procuration – {session}")
}

/// A displacement notice.
pub fn notice(session: &str, token: &str) -> String {
    format!("Votre poste provisoire a changé – {session} – réf. {token}")
}

/// The email to the ARS.
pub fn ars_list(session: &str) -> String {
    format!("Liste des choix de stage – {session}")
}

/// An alert to the referents: `[choixbot] Semestre d'été 2020 – WHAT`.
pub fn alert(session: &str, what: &str) -> String {
    format!("[choixbot] {session} – {what}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_keep_the_reference_and_do_not_pile_up_re() {
        let subject = super::invitation("Semestre d'été 2020", "abcdefghijk23456");
        assert_eq!(super::answer(&subject), format!("Re: {subject}"));
        assert_eq!(super::answer(&format!("RE: {subject}")), format!("RE: {subject}"));
        assert!(super::answer(&subject).ends_with("réf. abcdefghijk23456"));
        assert_eq!(super::answer("  "), "Re: Choix de stage");
    }

    #[test]
    fn a_line_break_in_the_original_subject_cannot_start_a_header() {
        let subject = super::answer("Choix\r\nBcc: victim@example.com");
        assert_eq!(subject, "Re: Choix  Bcc: victim@example.com");
    }
}

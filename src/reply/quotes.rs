//! Finding the lines the intern wrote in a plain-text reply: everything
//! quoted (`>`), every quoted original after a client's header ("Le … a
//! écrit :", Outlook's "De : / Envoyé :" block, "-----Message d'origine-----",
//! forwards…), then the signature ([`super::signature`]).
//!
//! An attribution line followed by `>` lines is a *soft* marker: the quoted
//! block is skipped and reading goes on after it, which handles bottom-posting
//! and inline replies. Any other marker is *hard*: the original follows
//! unquoted (Outlook, Yahoo, Samsung, forwards), so reading stops there.

use once_cell::sync::Lazy;
use regex::Regex;

use super::signature;

/// The intern's own text and how it was found.
pub(crate) struct OwnText {
    /// The lines kept, joined with LF.
    pub text: String,
    /// What was cut and why.
    pub notes: Vec<String>,
}

static SEPARATOR: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*-{2,}\s*(message d['’]origine|original message|mail original|message transf[ée]r[ée]|forwarded message|message transmis|urspr[üu]ngliche nachricht|weitergeleitete nachricht|oorspronkelijk bericht|doorgestuurd bericht|messaggio originale|messaggio inoltrato|mensaje original|mensaje reenviado|mensagem original|mensagem encaminhada|wiadomo[śs][ćc] oryginalna|oprindelig (besked|meddelelse)|videresendt (besked|meddelelse)|opprinnelig melding|videresendt melding|ursprungligt meddelande|vidarebefordrat meddelande|alkuper[äa]inen viesti|v[äa]litetty viesti|исходное сообщение|пересылаемое сообщение)\s*-{2,}\s*$",
    )
    .unwrap()
});
static FORWARD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*(d[ée]but du message r[ée]exp[ée]di[ée]|begin forwarded message|message transf[ée]r[ée])\s*:?\s*$")
        .unwrap()
});
/// A rule drawn just above a header ("====" above Orange's "Message
/// du"): part of the original, not of the answer.
static TRAILING_RULE: Lazy<Regex> = Lazy::new(|| Regex::new(r"^\s*(_{3,}|-{3,}|={3,})\s*$").unwrap());
static RULE: Lazy<Regex> = Lazy::new(|| Regex::new(r"^\s*(_{5,}|-{5,}|={5,})\s*$").unwrap());
/// The fields of an Outlook-style header block, in the languages phones
/// and webmails are set to: French, English, German, Dutch, Italian,
/// Spanish, Portuguese, Polish, the Nordic languages, Finnish, Russian.
static FIELD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*\*?(de|from|envoy[ée]|sent|date|[àa]|to|objet|sujet|subject|cc|exp[ée]diteur|destinataire|von|gesendet|an|betreff|datum|van|verzonden|aan|onderwerp|da|inviato|oggetto|enviado|para|asunto|fecha|assunto|od|wys[łl]ano|do|temat|data|fra|sendt|til|emne|fr[åa]n|skickat|till|[äa]mne|l[äa]hett[äa]j[äa]|l[äa]hetetty|vastaanottaja|aihe|от|отправлено|кому|тема|дата)\s*\*?\s*:",
    )
    .unwrap()
});
/// The first field of such a block: who sent the original.
static FROM_FIELD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*\*?(de|from|exp[ée]diteur|von|van|da|od|fra|fr[åa]n|l[äa]hett[äa]j[äa]|от)\s*\*?\s*:\s*\S",
    )
    .unwrap()
});
static ONE_LINE_HEADER: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*(de|from)\s*:.*(?-u:\b)(date|envoy[ée]|sent)\s*:").unwrap());
static ORANGE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*>?\s*(?:=+\s*)?message du\s*:?\s*\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}[:h]\d{2}")
        .unwrap()
});
/// The lines of choixbot's own invitation that no intern writes: where
/// one stands, the invitation begins, quoted or not, under any header or
/// none.
static INVITATION_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*(?:les choix de stage « .* » se font|postes ouverts (?:par l['’]ars )?pour|comment r[ée]pondre\s*$|(?:votre )?r[ée]f[ée]rence personnelle\s*:|vous avez re[çc]u la procuration de|vous [êe]tes class[ée]\(?e?\)? au rang|date limite de r[ée]ponse\s*:|r[ée]pondez [àa] ce message en indiquant)",
    )
    .unwrap()
});
/// A post line of the invitation: "n° 1204 – Hôpital Bichat – Urgences
/// (Paris) – 2 places".
static POST_LINE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*n°\s?(\d{1,6})\s+[–-]\s+.+\s[–-]\s+\d+\s+places?\s*$").unwrap());
/// "… a écrit :" and its translations (Gmail, Apple Mail, Thunderbird in
/// the languages of phones).
static ATTRIBUTION_END: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(a\s+[ée]crit|wrote|schrieb|escribi[óo]|ha\s+escrito|ha\s+scritto|scrisse|schreef|escreveu|napisa[łl]\(?a?\)?|skrev|kirjoitti|написал\(?а?\)?|a\s+scris|yazd[ıi])\s*:?\s*$",
    )
    .unwrap()
});
static ATTRIBUTION_START: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*(le|on|el|am|il|op|em|w\s+dniu|den|på|pe)\s").unwrap());
/// A header with no word at all, only a date, a name and an address:
/// "2017-11-24 16:32 GMT+01:00 Name <addr>:", "30.09.2017, 18.30, "Name"
/// <addr>:", Russian Gmail's "пн, 4 мая 2020 г. в 09:12, Name <addr>:".
/// A line ending inside an address, its bracket still open: "… schreef
/// Name <" or "… skrev Name <name@example.com".
static OPEN_ADDRESS: Lazy<Regex> = Lazy::new(|| Regex::new(r"<\s*([^\s<>@]+@[^\s<>@]+)?\s*$").unwrap());
static WORDLESS_ATTRIBUTION: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^.*\d.*\d.*<?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?\s*:\s*$").unwrap());

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// A marker after which the original follows unquoted; gives its name.
fn hard_marker(lines: &[&str], i: usize) -> Option<&'static str> {
    let line = lines[i];
    if SEPARATOR.is_match(line) {
        return Some("a \"message d'origine\" separator");
    }
    if FORWARD.is_match(line) {
        return Some("a forwarded message");
    }
    if ORANGE.is_match(line) {
        return Some("an Orange \"Message du\" header");
    }
    if INVITATION_LINE.is_match(line) {
        return Some("a line of choixbot's own invitation");
    }
    if is_post_list(lines, i) {
        return Some("the invitation's list of posts");
    }
    if ONE_LINE_HEADER.is_match(line) {
        return Some("a one-line \"De : … Date :\" header");
    }
    let next_fields = |from: usize| {
        lines[from..].iter().filter(|l| !l.trim().is_empty()).take(4).filter(|l| FIELD.is_match(l)).count()
    };
    if RULE.is_match(line) && next_fields(i + 1) >= 2 {
        return Some("a rule followed by an Outlook \"De : / Envoyé :\" block");
    }
    if FROM_FIELD.is_match(line) && next_fields(i + 1) >= 2 {
        return Some("an Outlook \"De : / Envoyé :\" block");
    }
    None
}

/// Two post lines of the invitation in a row, in the invitation's order
/// (ascending ARS numbers): the quoted list of posts. One line, or lines in
/// another order, may be the intern's own copy of their choices.
fn is_post_list(lines: &[&str], i: usize) -> bool {
    let number = |line: &str| POST_LINE.captures(line).and_then(|c| c[1].parse::<u64>().ok());
    let Some(first) = number(lines[i]) else { return false };
    let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
    next.and_then(|line| number(line)).is_some_and(|second| second > first)
}

/// An attribution ("Le … a écrit :"), possibly wrapped over up to three
/// lines; gives the number of lines it spans.
fn attribution(lines: &[&str], i: usize) -> Option<usize> {
    let line = lines[i];
    let is_header = |text: &str| {
        (ATTRIBUTION_END.is_match(text) || WORDLESS_ATTRIBUTION.is_match(text)) && text.len() < 400
    };
    if is_header(line) {
        return Some(1);
    }
    let open_address = OPEN_ADDRESS.is_match(line);
    if !ATTRIBUTION_START.is_match(line) && !open_address {
        return None;
    }
    // Gmail in Nordic languages wraps just before the closing bracket,
    // which then starts the next line as if it were quoted: "… <x@y.com" /
    // ">:".
    let closes_address =
        |next: &&str| next.trim_start().starts_with('>') && next.trim_start_matches(['>', ' ']).trim() == ":";
    if open_address && lines.get(i + 1).is_some_and(closes_address) {
        return Some(2);
    }
    let mut joined = line.to_string();
    for extra in 1..=2 {
        let Some(next) = lines.get(i + extra) else { break };
        if next.trim().is_empty() || is_quoted(next) {
            break;
        }
        joined.push(' ');
        joined.push_str(next.trim());
        if is_header(&joined) {
            return Some(extra + 1);
        }
    }
    None
}

/// A line wrapped by the client inside the quoted line above it: it
/// directly follows a `>` line (or another such line), starts in lower
/// case and holds no digit ("ignissim odio?" under "> … pharetra d"). An
/// inline answer starts otherwise.
fn continues_quote(line: &str, after_quote: bool) -> bool {
    let line = line.trim_start();
    after_quote
        && line.chars().next().is_some_and(char::is_lowercase)
        && !line.chars().any(|c| c.is_ascii_digit())
}

/// Keeps the lines the intern wrote.
pub(crate) fn own_text(body: &str) -> OwnText {
    let lines: Vec<&str> = body.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut notes = Vec::new();
    let mut quoted = 0usize;
    let mut i = 0;
    let mut after_quote = false;
    while i < lines.len() {
        if is_quoted(lines[i]) || continues_quote(lines[i], after_quote) {
            quoted += 1;
            i += 1;
            after_quote = true;
            continue;
        }
        after_quote = false;
        if let Some(marker) = hard_marker(&lines, i) {
            notes.push(format!("line {}: {marker}; the original message starts here and is ignored", i + 1));
            while kept.last().is_some_and(|l| l.trim().is_empty() || TRAILING_RULE.is_match(l)) {
                kept.pop();
            }
            break;
        }
        if let Some(span) = attribution(&lines, i) {
            let next = (i + span..lines.len()).find(|&k| !lines[k].trim().is_empty());
            if next.is_some_and(|k| is_quoted(lines[k])) {
                notes.push(format!(
                    "line {}: a quote header (\"… a écrit :\"); the quoted lines are ignored",
                    i + 1
                ));
                i += span;
                continue;
            }
            notes.push(format!(
                "line {}: a quote header (\"… a écrit :\") followed by the unquoted original, which is ignored",
                i + 1
            ));
            break;
        }
        kept.push(lines[i]);
        i += 1;
    }
    if quoted > 0 {
        notes.push(format!("{quoted} quoted line(s) starting with '>' were ignored"));
    }
    let (kept, signature_note) = signature::cut(kept);
    notes.extend(signature_note);
    let text = kept.join("\n").trim().to_string();
    OwnText { text, notes }
}

#[cfg(test)]
mod tests {
    use super::own_text;

    #[test]
    fn gmail_attribution_wrapped_over_two_lines_is_skipped() {
        let body = "1234\n5678\n\nLe lun. 4 mai 2020 à 09:12, Choix de stage <\nchoix@asso.example> a écrit :\n\n> 1111 – Bichat\n";
        assert_eq!(own_text(body).text, "1234\n5678");
    }

    #[test]
    fn bottom_posting_and_inline_replies_are_kept() {
        let body = "Le 4 mai 2020 à 09:12, X <x@y.fr> a écrit :\n> 1111 – Bichat\n> 2222 – Necker\n2222\n> 3333\n1111\n";
        assert_eq!(own_text(body).text, "2222\n1111");
    }

    #[test]
    fn outlook_block_after_underscores_stops_reading() {
        let body = "4521\n\n________________________________\nDe : Choix <c@a.fr>\nEnvoyé : lundi 4 mai 2020 09:12\nÀ : moi\nObjet : Choix\n\n1111\n";
        assert_eq!(own_text(body).text, "4521");
    }

    #[test]
    fn decorative_dash_rule_does_not_cut_the_answer() {
        let body = "Mes choix :\n----------\n1234\n5678\n----------\n";
        assert!(own_text(body).text.contains("5678"));
    }

    #[test]
    fn the_invitation_unquoted_under_no_header_is_cut() {
        let body = "1315 / 1204\n\n  n° 1211 – Hôpital Bichat – Médecine interne (Paris) – 2 places\n  \
                    n° 1408 – Hôpital Louis-Mourier – Gériatrie (Colombes) – 1 place\n";
        assert_eq!(own_text(body).text, "1315 / 1204");
        let heading =
            "2345\n\nPOSTES OUVERTS PAR L'ARS POUR VOTRE DES (Pédiatrie)\n  n° 1234 – Necker – 2 places\n";
        assert_eq!(own_text(heading).text, "2345");
    }

    #[test]
    fn posts_copied_in_the_interns_own_order_are_kept() {
        let body = "n° 1408 – Hôpital Louis-Mourier – Gériatrie (Colombes) – 1 place\n\
                    n° 1211 – Hôpital Bichat – Médecine interne (Paris) – 2 places\n";
        assert_eq!(own_text(body).text.lines().count(), 2);
    }

    #[test]
    fn a_french_webmail_message_du_block_is_cut() {
        let body = "1315 / 1204\n\n==== Message du : 24/11/2017 16:32\nDe : choix@asso.example\n\
                    A : moi@gmail.com\nSujet : Choix\n\n1211\n";
        assert_eq!(own_text(body).text, "1315 / 1204");
    }

    #[test]
    fn quote_headers_in_the_languages_of_phones_are_recognised() {
        for header in [
            "Am 04.05.2020 um 09:12 schrieb Choix <choix@asso.example>:",
            "Op ma 4 mei 2020 om 09:12 schreef Choix <choix@asso.example>:",
            "Il giorno lun 4 mag 2020 alle ore 09:12 Choix <choix@asso.example> ha scritto:",
            "El lun, 4 may 2020 a las 09:12, Choix (<choix@asso.example>) escribió:",
            "Em seg., 4 de mai. de 2020 às 09:12, Choix <choix@asso.example> escreveu:",
            "W dniu 4.05.2020 o 09:12 Choix <choix@asso.example> napisał:",
            "man. 4. mai 2020 kl. 09:12 skrev Choix <choix@asso.example>:",
            "ma 4.5.2020 klo 9.12 Choix (choix@asso.example) kirjoitti:",
            "пн, 4 мая 2020 г. в 09:12, Choix <choix@asso.example>:",
            "2017-11-24 16:32 GMT+01:00 Choix de stage <choix@asso.example>:",
            "30.09.2017, 18.30, \"Choix de stage\" <choix@asso.example>:",
        ] {
            let body = format!("2345\n\n{header}\n\n1111 – Bichat\n");
            assert_eq!(own_text(&body).text, "2345", "{header}");
        }
    }

    #[test]
    fn outlook_blocks_in_other_languages_are_cut() {
        for block in [
            "Von: Choix <c@a.fr>\nGesendet: Montag, 4. Mai 2020 09:12\nAn: ich\nBetreff: Choix",
            "Van: Choix <c@a.fr>\nVerzonden: maandag 4 mei 2020 09:12\nAan: mij\nOnderwerp: Choix",
            "Da: Choix <c@a.fr>\nInviato: lunedì 4 maggio 2020 09:12\nA: me\nOggetto: Choix",
            "Od: Choix <c@a.fr>\nWysłano: poniedziałek, 4 maja 2020 09:12\nDo: ja\nTemat: Choix",
            "Fra: Choix <c@a.fr>\nSendt: mandag 4. mai 2020 09:12\nTil: meg\nEmne: Choix",
            "От: Choix <c@a.fr>\nОтправлено: 4 мая 2020 г. 9:12\nКому: я\nТема: Choix",
        ] {
            let body = format!("4521\n\n{block}\n\n1111\n");
            assert_eq!(own_text(&body).text, "4521", "{block}");
        }
    }

    #[test]
    fn yahoo_unquoted_original_is_cut() {
        let body =
            "1234\n\nLe lundi 4 mai 2020 à 09:12:33 UTC+2, Choix <c@a.fr> a écrit :\n\n1111 – Bichat\n";
        assert_eq!(own_text(body).text, "1234");
    }

    #[test]
    fn lines_the_client_wrapped_inside_a_quote_are_not_the_answer() {
        let body = "2345\n\nIl giovedì 8 dicembre 2016, Choix <c@a.fr>\nha scritto:\n> Répondez en indiquant vos choix par\n\
                    ordre de préférence, un numéro ARS par\nligne.\n> 1111\n1234\n";
        assert_eq!(own_text(body).text, "2345\n\n1234");
    }

    #[test]
    fn an_address_wrapped_out_of_its_header_is_recognised() {
        for header in [
            "Op 12 december 2016 19:05 schreef Choix <\nchoix@asso.example>:",
            "tir. 18. apr. 2017 kl. 13:09 skrev Choix <choix@asso.example\n>:",
        ] {
            let body = format!("2345\n\n{header}\n\n> 1111 – Bichat\n");
            assert_eq!(own_text(&body).text, "2345", "{header}");
        }
    }

    #[test]
    fn original_message_separators_in_other_languages_are_cut() {
        for separator in [
            "-----Ursprüngliche Nachricht-----",
            "-------- Oprindelig besked --------",
            "----- Messaggio originale -----",
        ] {
            let body = format!("4521\n\n{separator}\nFrom: Choix\n\n1111\n");
            assert_eq!(own_text(&body).text, "4521", "{separator}");
        }
    }

    #[test]
    fn a_rule_above_a_header_goes_with_the_original() {
        let body = "1315\n\n====\n\nMessage du : 24/11/2017 16:32\nDe : choix@asso.example\n\n1211\n";
        assert_eq!(own_text(body).text, "1315");
    }
}

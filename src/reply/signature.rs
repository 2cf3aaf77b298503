//! Where the intern's answer ends: the signature delimiter, the footers of
//! mobile clients, closings ("Cordialement") and confidentiality
//! disclaimers. Everything from the first of them on is not the answer (it
//! is where phone numbers and addresses live).
//!
//! A rule of dashes alone is *not* a signature: interns draw them around
//! their list. Only the RFC 3676 delimiter "-- " (or a bare "--") counts.

use once_cell::sync::Lazy;
use regex::Regex;

static MOBILE_FOOTER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*((envoy[ée]|sent|exp[ée]di[ée])\s+(de|depuis|from|avec|with|[àa] partir de|via)\s|(gesendet\s+(von|mit)|verzonden\s+(met|vanaf|van)|inviato\s+da|enviado\s+(desde|de|do)|wys[łl]ane\s+z|sendt\s+fra|skickat\s+fr[åa]n|l[äa]hetetty|отправлено\s+с)\s|(obtenir|get|t[ée]l[ée]chargez|download|holen sie sich)\s+outlook(?-u:\b))",
    )
    .unwrap()
});
static CLOSING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*(bien\s+|tr[èe]s\s+|tr[èe]s\s+bien\s+)?(cordialement|[àa] vous|sinc[èe]res salutations|salutations|bonne (journ[ée]e|soir[ée]e|fin de journ[ée]e|continuation)|amicalement|bises|bisous|respectueusement|best regards|kind regards|regards|merci d['’]avance|merci par avance|en vous remerciant)(?-u:\b)[^0-9]{0,60}$",
    )
    .unwrap()
});
static DISCLAIMER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(ce (message|courriel|mail|e-mail)( \w+)? (et|ainsi|est|peut|contient)(?-u:\b).*(confidenti|destinataire)|this (e-?mail|message)( \w+)? (and|is|may|contains)(?-u:\b).*(confidential|intended)|avertissement\s*:|disclaimer\s*:|confidentialit[ée]\s*:|confidentiality notice)",
    )
    .unwrap()
});

/// Cuts the lines at the start of the signature; says where.
pub(crate) fn cut(lines: Vec<&str>) -> (Vec<&str>, Option<String>) {
    for (i, line) in lines.iter().enumerate() {
        let reason = if line.trim_end() == "--" {
            Some("the signature delimiter \"-- \"")
        } else if MOBILE_FOOTER.is_match(line) {
            Some("a mobile client's footer")
        } else if CLOSING.is_match(line) {
            Some("a closing formula")
        } else if DISCLAIMER.is_match(line) {
            Some("a confidentiality disclaimer")
        } else {
            None
        };
        if let Some(reason) = reason {
            let note =
                format!("own text line {}: {reason}; what follows is a signature and is ignored", i + 1);
            return (lines[..i].to_vec(), Some(note));
        }
    }
    (lines, None)
}

#[cfg(test)]
mod tests {
    use super::cut;

    fn kept(text: &str) -> Vec<&str> {
        cut(text.lines().collect()).0
    }

    #[test]
    fn signatures_and_footers_are_cut() {
        assert_eq!(kept("1234\n-- \nJean 06 12 34 56 78"), ["1234"]);
        assert_eq!(kept("1234\nEnvoyé de mon iPhone"), ["1234"]);
        assert_eq!(kept("1234\nEnvoyé depuis mon appareil Galaxy"), ["1234"]);
        assert_eq!(kept("1234\nObtenir Outlook pour Android"), ["1234"]);
        assert_eq!(kept("1234\nBien à vous,\nJean"), ["1234"]);
        assert_eq!(kept("1234\nCordialement\n75010 Paris"), ["1234"]);
        assert_eq!(kept("1234\nGesendet von Outlook für Android"), ["1234"]);
        assert_eq!(kept("1234\nWysłane z mojego iPhone'a"), ["1234"]);
    }

    #[test]
    fn a_dash_rule_is_not_a_signature() {
        assert_eq!(kept("-----\n1234\n-----"), ["-----", "1234", "-----"]);
    }
}

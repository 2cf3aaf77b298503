//! Why a reply was rejected, as the daemon decides it, and the one French
//! sentence that tells the intern (SPEC §6: "every reason, each one naming
//! the number concerned").
//!
//! The daemon produces a list of [`Reason`]s; the rejection template shows
//! them as sentences. The sentences live here, not in the template, so that
//! every reason is always explained even when a referent edits the template
//! (a template cannot forget a variant it does not know about).

use serde::{Deserialize, Serialize};

/// One reason a reply is not taken into account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum Reason {
    /// A number written as a choice that is no open post at all.
    UnknownNumber(String),
    /// A post that exists, but is opened to other groups only.
    NotOpenToGroup {
        /// The number written.
        ars_id: String,
        /// The intern's group (DES).
        group: String,
    },
    /// The same number written twice in one list.
    DuplicateNumber(String),
    /// The message holds no ARS number at all.
    NoNumberFound,
    /// The sender is neither an intern nor a proxy of this session.
    UnknownSender {
        /// The address the message came from.
        address: String,
    },
    /// The personal reference in the message belongs to another intern.
    TokenOfSomeoneElse,
    /// Told to the owner of a token: their reference was used from
    /// another address, and that message was not taken into account.
    TokenUsedBy {
        /// The address the message came from.
        address: String,
    },
    /// The message arrived after the close.
    AfterDeadline,
    /// More numbers than a reply may hold.
    TooManyNumbers {
        /// How many numbers the message held.
        count: usize,
        /// How many are accepted.
        max: usize,
    },
    /// The sender's provider says the message was not sent by them (SPF,
    /// DKIM or DMARC failed in a trusted `Authentication-Results`).
    AuthenticationFailed,
}

impl Reason {
    /// The sentence shown to the intern, naming the number concerned.
    pub fn sentence(&self) -> String {
        match self {
            Self::UnknownNumber(number) => {
                format!("Le numéro {number} ne correspond à aucun poste ouvert.")
            }
            Self::NotOpenToGroup { ars_id, group } => format!(
                "Le poste n° {ars_id} n'est pas ouvert à votre DES ({group}) : vous ne pouvez pas le choisir."
            ),
            Self::DuplicateNumber(number) => {
                format!("Le numéro {number} figure plusieurs fois dans votre liste : indiquez chaque poste une seule fois.")
            }
            Self::NoNumberFound => {
                "Nous n'avons trouvé aucun numéro de poste (n° ARS) dans votre message.".into()
            }
            Self::UnknownSender { address } => format!(
                "L'adresse {address} n'est inscrite pour cette session ni comme interne ni comme procuration."
            ),
            Self::TokenOfSomeoneElse => "La référence personnelle de ce message appartient à un autre interne : \
                 répondez depuis votre propre invitation, avec votre propre référence."
                .into(),
            Self::TokenUsedBy { address } => format!(
                "Votre référence personnelle a été utilisée depuis l'adresse {address}, qui n'est pas la vôtre : \
                 ce message n'a pas été pris en compte. Si vous ne l'avez pas transféré, prévenez les référents."
            ),
            Self::AfterDeadline => {
                "Votre message est arrivé après la clôture des choix : il ne peut plus être pris en compte.".into()
            }
            Self::TooManyNumbers { count, max } => format!(
                "Votre message contient {count} numéros de poste, alors que {max} au plus sont acceptés : \
                 gardez vos {max} premiers vœux."
            ),
            Self::AuthenticationFailed => "Votre fournisseur de messagerie n'a pas pu confirmer que ce message vient \
                 bien de votre adresse (contrôles SPF/DKIM en échec) : par sécurité, il n'est pas pris en compte."
                .into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sentence())
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn every_reason_about_a_number_names_it() {
        let reasons = [
            (Reason::UnknownNumber("9999".into()), "9999"),
            (Reason::NotOpenToGroup { ars_id: "4521".into(), group: "Pédiatrie".into() }, "4521"),
            (Reason::DuplicateNumber("1234".into()), "1234"),
            (Reason::UnknownSender { address: "x@ex.fr".into() }, "x@ex.fr"),
            (Reason::TokenUsedBy { address: "y@ex.fr".into() }, "y@ex.fr"),
            (Reason::TooManyNumbers { count: 45, max: 30 }, "45"),
        ];
        for (reason, needle) in reasons {
            assert!(reason.sentence().contains(needle), "{reason:?}: {}", reason.sentence());
        }
        assert_eq!(
            Reason::UnknownNumber("9999".into()).sentence(),
            "Le numéro 9999 ne correspond à aucun poste ouvert."
        );
    }

    #[test]
    fn the_group_is_named_when_a_post_is_not_open_to_it() {
        let sentence = Reason::NotOpenToGroup { ars_id: "4521".into(), group: "Pédiatrie".into() }.sentence();
        assert!(sentence.contains("Pédiatrie"), "{sentence}");
    }

    #[test]
    fn reasons_round_trip_through_json_for_the_store() {
        let reason = Reason::TooManyNumbers { count: 45, max: 30 };
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), reason);
    }
}

//! The one French sentence that tells the intern why a reply was rejected (SPEC §6: "every reason, each one naming
//! the number concerned").
//!
//! The daemon produces a list of [`Reason`]s; the rejection template shows
//! them as sentences. The sentences live here, not in the template, so that
//! every reason is always explained even when a referent edits the template
//! (a template cannot forget a variant it does not know about).

pub use crate::decide::Reason;

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
            Self::ExpiredToken => "La référence personnelle de ce message n'est plus valable : elle vient d'une \
                 invitation envoyée à une adresse qui ne figure plus sur la liste d'appel. Répondez à la dernière \
                 invitation que vous avez reçue, ou contactez les référents."
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
            Self::ProxyByInternOnly => "Seul l'interne peut désigner ou révoquer sa procuration : la demande doit \
                 venir de son adresse inscrite."
                .into(),
            Self::ProxyAddressUnreadable(text) if text.is_empty() => "Indiquez l'adresse de votre procuration après \
                 le mot PROCURATION, par exemple « PROCURATION prenom.nom@exemple.fr », ou « PROCURATION AUCUNE » \
                 pour la révoquer."
                .into(),
            Self::ProxyAddressUnreadable(text) => format!(
                "« {text} » n'est pas une adresse électronique : écrivez par exemple « PROCURATION \
                 prenom.nom@exemple.fr », ou « PROCURATION AUCUNE » pour révoquer votre procuration."
            ),
            Self::ProxyIsYourself => "Vous ne pouvez pas être votre propre procuration.".into(),
            Self::ProxyAlreadyYours { address } => format!("{address} est déjà votre procuration."),
            Self::ProxyTaken { address } => format!(
                "{address} est déjà la procuration d'un autre interne, ou a déjà été sollicité(e) par un autre \
                 interne : une personne ne peut détenir qu'une seule procuration."
            ),
            Self::NoProxyRequest => "Aucune demande de procuration ne vous a été adressée : il n'y a rien à accepter. \
                 L'interne qui souhaite vous confier sa procuration doit d'abord écrire « PROCURATION » suivi de \
                 votre adresse."
                .into(),
            Self::AmphiOnly(word) => format!(
                "« {word} » ne sert que pendant un amphi virtuel, où les internes choisissent à tour de rôle ; \
                 ici, envoyez vos vœux par ordre de préférence (ou ANNULER pour retirer les vôtres)."
            ),
            Self::AmbiguousSender => "Votre adresse est inscrite à la fois pour vous et comme procuration d'un autre \
                 interne : répondez à l'invitation concernée, pour que sa référence personnelle indique pour qui vous choisissez."
                .into(),
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

//! choixbot's answers as emails: the French templates interns, proxies,
//! referents and the ARS read (`templates/*.tera`), the typed contexts that
//! feed them, the rejection reasons, the subjects, and the composition of
//! the MIME messages the outbox sends.
//!
//! Pure: templates are read once at start-up ([`Templates::load`]), then
//! everything here turns values into strings and bytes. The daemon decides,
//! this module words the decision.
//!
//! ```
//! use choixbot::answer::{sample, subject, ConfirmationContext, Outgoing, PostCatalog, Purpose, Templates};
//! use choixbot::allocation::{Assignment, Status};
//! # let settings = choixbot::settings::Settings::parse(choixbot::settings::TEMPLATE).unwrap();
//! # let posts = sample::sample_posts();
//! # let intern = sample::sample_intern(choixbot::domain::ChoiceType::Classique);
//! # let wishes = vec![posts[0].ars_id.clone()];
//! # let provisional = Assignment { email: intern.email.clone(), group: intern.group.clone(),
//! #     rank: intern.rank, status: Status::Assigned, ars_id: Some(posts[0].ars_id.clone()) };
//! # let token = choixbot::domain::Token::generate();
//! let templates = Templates::load(None)?; // once, at start-up…
//! templates.check()?; // …and refuse to start if a template is broken
//! let session = choixbot::answer::SessionFacts::from_settings(&settings);
//! let catalog = PostCatalog::new(&posts); // once per batch
//! let context = ConfirmationContext::new(session, &intern, false, &wishes, &provisional, &catalog);
//! let subject = subject::answer("Choix de stage – Semestre d'été 2020 – réf. abc");
//! let mut outgoing =
//!     Outgoing::from_rendered(Purpose::Confirmation, "<incoming@id>", &settings.mail, subject, templates.confirmation(&context)?)?
//!         .answering("<incoming@id>", &[]);
//! outgoing.to = vec![intern.email.clone()];
//! outgoing.cc = intern.proxy_email.iter().cloned().collect();
//! outgoing.reply_to = Some(settings.mail.reply_to_for(&token));
//! let bytes = outgoing.to_bytes(&settings.mail)?;
//! assert!(String::from_utf8_lossy(&bytes).contains("Auto-Submitted: auto-replied"));
//! # Ok::<(), anyhow::Error>(())
//! ```

mod amphi;
mod catalog;
mod closing;
mod commands;
mod compose;
mod context;
pub mod french;
mod reason;
pub mod replies;
pub mod sample;
pub mod subject;
mod templates;

pub use amphi::{length_in_words, AmphiContext, AmphiKind};
pub use catalog::PostCatalog;
pub use closing::{
    mailbox_warning, AlertContext, ArsListContext, ClosedContext, ResultContext, VacanciesContext,
};
pub use commands::sample::CommandSamples;
pub use commands::{
    CancelledContext, HelpContext, NoticeContext, NotificationsContext, PostStanding, PostsContext,
    ProxyContext, ProxyEvent, ProxyRequestContext, StatusContext,
};
pub use compose::{
    derived_message_id, Attachment, AutoSubmitted, Outgoing, Purpose, CSV_CONTENT_TYPE, PURPOSE_HEADER,
    XLSX_CONTENT_TYPE,
};
pub use context::{
    ConfirmationContext, InternFacts, InvitationContext, Outcome, PostLine, RejectionContext, SessionFacts,
    WishLine,
};
pub use reason::Reason;
pub use templates::{built_in, template_names, Rendered, Templates};

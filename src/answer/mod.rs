//! choixbot's answers as emails: the French templates interns, proxies,
//! referents and the ARS read (`templates/*.tera`), the typed contexts that
//! feed them, the rejection reasons, the subjects, and the composition of
//! the MIME messages the outbox sends.
//!
//! Pure: templates are read once at start-up ([`Templates::load`]), then
//! everything here turns values into strings and bytes. The daemon decides,
//! this module words the decision.

mod catalog;
mod closing;
mod compose;
mod context;
pub mod french;
mod reason;
pub mod sample;
pub mod subject;
mod templates;

pub use catalog::PostCatalog;
pub use closing::{ArsListContext, ClosedContext, ResultContext, VacanciesContext};
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

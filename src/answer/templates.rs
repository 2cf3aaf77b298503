//! The email templates: built into the binary, and overridable by a
//! directory of files with the same names, so a referent can reword an email
//! without rebuilding choixbot.
//!
//! A template that does not parse or does not render is found at start-up,
//! not at the close with 10,000 results to send: [`Templates::check`]
//! renders every template with sample data (`sample.rs`) and names the one
//! that fails with tera's own explanation.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use serde::Serialize;
use tera::Tera;

use super::amphi::AmphiContext;
use super::closing::{AlertContext, ArsListContext, ClosedContext, ResultContext, VacanciesContext};
use super::commands::{
    CancelledContext, HelpContext, NoticeContext, NotificationsContext, PostsContext, ProxyContext,
    ProxyRequestContext, StatusContext,
};
use super::context::{ConfirmationContext, InvitationContext, RejectionContext};

/// The file names of the templates, with their built-in text.
const BUILT_IN: [(&str, &str); 29] = [
    ("invitation.txt.tera", include_str!("../../templates/invitation.txt.tera")),
    ("invitation.html.tera", include_str!("../../templates/invitation.html.tera")),
    ("confirmation.txt.tera", include_str!("../../templates/confirmation.txt.tera")),
    ("confirmation.html.tera", include_str!("../../templates/confirmation.html.tera")),
    ("rejection.txt.tera", include_str!("../../templates/rejection.txt.tera")),
    ("rejection.html.tera", include_str!("../../templates/rejection.html.tera")),
    ("closed.txt.tera", include_str!("../../templates/closed.txt.tera")),
    ("closed.html.tera", include_str!("../../templates/closed.html.tera")),
    ("result.txt.tera", include_str!("../../templates/result.txt.tera")),
    ("vacancies.txt.tera", include_str!("../../templates/vacancies.txt.tera")),
    ("ars_list.txt.tera", include_str!("../../templates/ars_list.txt.tera")),
    ("alert.txt.tera", include_str!("../../templates/alert.txt.tera")),
    ("status.txt.tera", include_str!("../../templates/status.txt.tera")),
    ("status.html.tera", include_str!("../../templates/status.html.tera")),
    ("posts.txt.tera", include_str!("../../templates/posts.txt.tera")),
    ("posts.html.tera", include_str!("../../templates/posts.html.tera")),
    ("help.txt.tera", include_str!("../../templates/help.txt.tera")),
    ("help.html.tera", include_str!("../../templates/help.html.tera")),
    ("cancelled.txt.tera", include_str!("../../templates/cancelled.txt.tera")),
    ("cancelled.html.tera", include_str!("../../templates/cancelled.html.tera")),
    ("notifications.txt.tera", include_str!("../../templates/notifications.txt.tera")),
    ("notifications.html.tera", include_str!("../../templates/notifications.html.tera")),
    ("proxy.txt.tera", include_str!("../../templates/proxy.txt.tera")),
    ("proxy.html.tera", include_str!("../../templates/proxy.html.tera")),
    ("proxy_request.txt.tera", include_str!("../../templates/proxy_request.txt.tera")),
    ("proxy_request.html.tera", include_str!("../../templates/proxy_request.html.tera")),
    ("notice.txt.tera", include_str!("../../templates/notice.txt.tera")),
    ("notice.html.tera", include_str!("../../templates/notice.html.tera")),
    ("amphi.txt.tera", include_str!("../../templates/amphi.txt.tera")),
];

/// The names of every template, for `check` and for referents who want to
/// copy them.
pub fn template_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(name, _)| *name)
}

/// The built-in text of a template, to write out as a starting point.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// A rendered email body: plain text, and an HTML alternative for the
/// emails that have one.
///
/// The results and vacancy notices are plain text on purpose: the close
/// queues 10,000 of them within SPEC §10's 2 s, and an HTML alternative
/// measured 0.65 s more on the benchmark (1.28 s → 1.93 s on 2 cores),
/// mostly tera and quoted-printable encoding. The ARS list's body is plain
/// text too: its content is in the attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part, if the email has one.
    pub html: Option<String>,
}

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    /// Every template, parsed.
    tera: Tera,
    /// The emails whose plain text the referent rewrote without writing
    /// the HTML too ("rejection", …): they go out as plain text only.
    /// Mail clients show the HTML alternative when there is one, so the
    /// built-in HTML would hide the referent's wording.
    text_only: Vec<String>,
}

impl Templates {
    /// The built-in templates, each replaced by the file of the same name in
    /// `dir` when there is one. Fails on a directory that cannot be read or
    /// a template that does not parse, naming the file.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut sources: Vec<(String, String)> = Vec::new();
        let mut overridden = Vec::new();
        for (name, text) in BUILT_IN {
            let text = match dir.map(|dir| read_override(dir, name)).transpose()?.flatten() {
                Some(own) => {
                    overridden.push(name);
                    own
                }
                None => text.to_string(),
            };
            sources.push((name.to_string(), text));
        }
        let text_only = overridden
            .iter()
            .filter_map(|name| name.strip_suffix(".txt.tera"))
            .filter(|stem| {
                let html = format!("{stem}.html.tera");
                built_in(&html).is_some() && !overridden.contains(&html.as_str())
            })
            .map(str::to_string)
            .collect();
        let mut tera = Tera::default();
        // Tera escapes only `.html`/`.htm`/`.xml` by default; ours end in
        // `.html.tera`. Without this, a name like "<b>" would become markup.
        tera.autoescape_on(vec![".html.tera"]);
        for (name, text) in &sources {
            tera.add_raw_template(name, text)
                .map_err(|error| anyhow!("template {name} does not parse: {}", tera_cause(&error)))?;
        }
        Ok(Self { tera, text_only })
    }

    /// Renders every template with sample data; the error names the
    /// template that fails and why. choixbot refuses to start on an error.
    pub fn check(&self) -> anyhow::Result<()> {
        let samples = super::sample::Samples::new();
        self.invitation(&samples.invitation)?;
        self.invitation(&samples.proxy_invitation)?;
        self.confirmation(&samples.confirmation)?;
        self.confirmation(&samples.surnombre_confirmation)?;
        self.confirmation(&samples.late_read_confirmation)?;
        self.confirmation(&samples.to_check_confirmation)?;
        self.rejection(&samples.rejection)?;
        self.rejection(&samples.stranger_rejection)?;
        self.closed(&samples.closed)?;
        self.result(&samples.result)?;
        self.result(&samples.absent_result)?;
        self.vacancies(&samples.vacancies)?;
        self.ars_list(&samples.ars_list)?;
        self.alert(&samples.held_alert)?;
        self.alert(&samples.refusal_alert)?;
        self.check_commands()
    }

    /// [`Templates::check`] for the answers to the commands.
    fn check_commands(&self) -> anyhow::Result<()> {
        let samples = super::commands::sample::CommandSamples::new();
        self.status(&samples.status)?;
        self.status(&samples.final_status)?;
        self.posts(&samples.posts)?;
        self.help(&samples.help)?;
        self.cancelled(&samples.cancelled)?;
        self.notifications(&samples.notifications)?;
        for proxy in &samples.proxy {
            self.proxy(proxy)?;
        }
        self.proxy_request(&samples.proxy_request)?;
        self.notice(&samples.notice)?;
        for amphi in &samples.amphi {
            self.amphi(amphi)?;
        }
        Ok(())
    }

    pub fn invitation(&self, context: &InvitationContext) -> anyhow::Result<Rendered> {
        self.render_pair("invitation", context)
    }

    pub fn confirmation(&self, context: &ConfirmationContext) -> anyhow::Result<Rendered> {
        self.render_pair("confirmation", context)
    }

    pub fn rejection(&self, context: &RejectionContext) -> anyhow::Result<Rendered> {
        self.render_pair("rejection", context)
    }

    pub fn closed(&self, context: &ClosedContext) -> anyhow::Result<Rendered> {
        self.render_pair("closed", context)
    }

    pub fn result(&self, context: &ResultContext) -> anyhow::Result<Rendered> {
        self.render_text("result", context)
    }

    pub fn vacancies(&self, context: &VacanciesContext) -> anyhow::Result<Rendered> {
        self.render_text("vacancies", context)
    }

    pub fn ars_list(&self, context: &ArsListContext) -> anyhow::Result<Rendered> {
        self.render_text("ars_list", context)
    }

    pub fn alert(&self, context: &AlertContext) -> anyhow::Result<Rendered> {
        self.render_text("alert", context)
    }

    pub fn status(&self, context: &StatusContext) -> anyhow::Result<Rendered> {
        self.render_pair("status", context)
    }

    pub fn posts(&self, context: &PostsContext) -> anyhow::Result<Rendered> {
        self.render_pair("posts", context)
    }

    pub fn help(&self, context: &HelpContext) -> anyhow::Result<Rendered> {
        self.render_pair("help", context)
    }

    pub fn cancelled(&self, context: &CancelledContext) -> anyhow::Result<Rendered> {
        self.render_pair("cancelled", context)
    }

    pub fn notifications(&self, context: &NotificationsContext) -> anyhow::Result<Rendered> {
        self.render_pair("notifications", context)
    }

    pub fn proxy(&self, context: &ProxyContext) -> anyhow::Result<Rendered> {
        self.render_pair("proxy", context)
    }

    pub fn proxy_request(&self, context: &ProxyRequestContext) -> anyhow::Result<Rendered> {
        self.render_pair("proxy_request", context)
    }

    pub fn notice(&self, context: &NoticeContext) -> anyhow::Result<Rendered> {
        self.render_pair("notice", context)
    }

    pub fn amphi(&self, context: &AmphiContext) -> anyhow::Result<Rendered> {
        self.render_text("amphi", context)
    }

    fn render_text(&self, stem: &str, context: &impl Serialize) -> anyhow::Result<Rendered> {
        let context = to_tera(stem, context)?;
        Ok(Rendered { text: self.render_one(&format!("{stem}.txt.tera"), &context)?, html: None })
    }

    fn render_pair(&self, stem: &str, context: &impl Serialize) -> anyhow::Result<Rendered> {
        let context = to_tera(stem, context)?;
        let text = self.render_one(&format!("{stem}.txt.tera"), &context)?;
        if self.text_only.iter().any(|own| own == stem) {
            return Ok(Rendered { text, html: None });
        }
        let html = self.render_one(&format!("{stem}.html.tera"), &context)?;
        Ok(Rendered { text, html: Some(html) })
    }

    fn render_one(&self, name: &str, context: &tera::Context) -> anyhow::Result<String> {
        self.tera
            .render(name, context)
            .map_err(|error| anyhow!("template {name} does not render: {}", tera_cause(&error)))
    }
}

/// Reads `dir/name` if it exists.
fn read_override(dir: &Path, name: &str) -> anyhow::Result<Option<String>> {
    if !dir.is_dir() {
        return Err(anyhow!("template directory {} does not exist or is not a directory", dir.display()));
    }
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read template {}", path.display()))
        .map(Some)
}

fn to_tera(stem: &str, context: &impl Serialize) -> anyhow::Result<tera::Context> {
    tera::Context::from_serialize(context)
        .with_context(|| format!("cannot build the context of template {stem}"))
}

/// Tera's error and its causes on one line: the top error alone says only
/// "Failed to render", the cause says which variable or filter.
fn tera_cause(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

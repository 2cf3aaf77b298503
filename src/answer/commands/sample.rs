//! Sample contexts of the commands' answers, for [`super::super::Templates::check`].

use super::{
    CancelledContext, HelpContext, NoticeContext, NotificationsContext, PostsContext, ProxyContext,
    ProxyEvent, ProxyRequestContext, StatusContext,
};
use crate::allocation::{standing, Assignment, Status};
use crate::answer::amphi::{AmphiContext, AmphiKind};
use crate::answer::catalog::PostCatalog;
use crate::answer::context::{PostLine, WishLine};
use crate::answer::sample::{sample_intern, sample_posts, sample_session};
use crate::domain::{ArsId, ChoiceType};

/// One context of each command's answer, and a few variants.
#[derive(Debug, Clone)]
pub struct CommandSamples {
    /// STATUT with a post obtained at the second wish.
    pub status: StatusContext,
    /// STATUT with nothing obtainable, after the deadline, to the proxy.
    pub final_status: StatusContext,
    /// POSTES.
    pub posts: PostsContext,
    /// AIDE.
    pub help: HelpContext,
    /// ANNULER.
    pub cancelled: CancelledContext,
    /// NOTIFS NON.
    pub notifications: NotificationsContext,
    /// Every proxy event, to the intern and to the proxy.
    pub proxy: Vec<ProxyContext>,
    /// The request to a designated proxy.
    pub proxy_request: ProxyRequestContext,
    /// A displacement notice.
    pub notice: NoticeContext,
    /// Every email of the amphi, to the intern and to the proxy.
    pub amphi: Vec<AmphiContext>,
}

impl CommandSamples {
    pub fn new() -> Self {
        let all_posts = sample_posts();
        let posts = PostCatalog::new(&all_posts);
        let session = sample_session();
        let intern = sample_intern(ChoiceType::Classique);
        let id = |text: &str| ArsId::parse(text).expect("sample ARS number");
        let wishes = [id("4521"), id("1234"), id("9012")];
        let assignment = |status, ars_id: Option<&str>| Assignment {
            email: intern.email.clone(),
            group: intern.group.clone(),
            rank: intern.rank,
            status,
            ars_id: ars_id.map(id),
        };
        let assigned = assignment(Status::Assigned, Some("1234"));
        let group_posts: Vec<_> = all_posts.iter().filter(|p| p.group == intern.group).cloned().collect();
        let standing = standing(&group_posts, std::slice::from_ref(&assigned), &intern, 1);
        let mut final_status = StatusContext::new(
            session.clone(),
            &intern,
            true,
            &wishes,
            &assignment(Status::Unassigned, None),
            &posts,
        );
        final_status.final_result = true;
        final_status.pending_proxy = Some("marie.curie@exemple.fr".into());
        final_status.notices = false;
        let events = [
            ProxyEvent::Requested,
            ProxyEvent::Accepted,
            ProxyEvent::Revoked,
            ProxyEvent::Ended,
            ProxyEvent::Withdrawn,
        ];
        let proxy = events
            .into_iter()
            .flat_map(|event| [false, true].map(|to_proxy| (event, to_proxy)))
            .map(|(event, to_proxy)| {
                ProxyContext::new(session.clone(), &intern, to_proxy, event, "camille.roux@exemple.fr")
            })
            .chain([ProxyContext::new(session.clone(), &intern, false, ProxyEvent::Revoked, "")])
            .collect();
        Self {
            status: StatusContext::new(session.clone(), &intern, false, &wishes, &assigned, &posts),
            final_status,
            posts: PostsContext::new(session.clone(), &intern, false, &wishes, &standing, &posts),
            help: HelpContext::new(session.clone(), &intern, false, &posts),
            cancelled: CancelledContext::new(session.clone(), &intern, false, &wishes, &posts),
            notifications: NotificationsContext {
                session: session.clone(),
                intern: (&intern).into(),
                proxy: false,
                on: false,
            },
            proxy,
            proxy_request: ProxyRequestContext {
                session: session.clone(),
                intern: (&intern).into(),
                intern_email: intern.email.to_string(),
                address: "camille.roux@exemple.fr".into(),
            },
            amphi: amphi_samples(&session, &intern, &posts, &wishes),
            notice: NoticeContext::new(
                session,
                &intern,
                false,
                &id("4521"),
                (&wishes, &assignment(Status::Assigned, Some("9012"))),
                &posts,
            ),
        }
    }
}

/// One context of each amphi email, to the intern and to the proxy, with
/// every optional part filled.
fn amphi_samples(
    session: &crate::answer::SessionFacts,
    intern: &crate::domain::Intern,
    posts: &PostCatalog<'_>,
    wishes: &[ArsId],
) -> Vec<AmphiContext> {
    let open: Vec<PostLine> = posts.open_to(&intern.group).iter().map(|p| PostLine::new(p, 1)).collect();
    let mut samples = Vec::new();
    for kind in AmphiKind::ALL {
        for proxy in [false, true] {
            let mut context = AmphiContext::new(kind, session.clone(), intern, proxy, 600_000);
            context.post = open.first().cloned();
            context.surnombre = proxy;
            context.how = Some(if proxy { "favourite" } else { "when_absent" });
            context.open_posts = open.clone();
            context.wishes = WishLine::list(wishes, &intern.group, posts);
            context.reasons = vec!["Le poste n° 1234 est déjà pris.".into()];
            context.ends_at = Some("lundi 4 mai 2026 à 9 h 10 min 00 s (heure de Paris)".into());
            context.estimated_at = context.ends_at.clone();
            context.ahead = 3;
            context.start = "lundi 4 mai 2026 à 9 h 00 (heure de Paris)".into();
            context.when_absent_wishes = proxy;
            context.again = proxy;
            samples.push(context);
        }
    }
    samples
}

impl Default for CommandSamples {
    fn default() -> Self {
        Self::new()
    }
}

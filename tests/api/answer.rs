//! The emails choixbot writes: every template renders realistic data and
//! says what SPEC §3, §6 and §8 require; broken overrides are refused at
//! start-up with the template's name. Message composition is tested in
//! `answer/compose.rs`.

mod compose;

use choixbot::allocation::{Assignment, Status, Vacancy};
use choixbot::answer::sample::{sample_intern, sample_posts, sample_session, Samples};
use choixbot::answer::{
    template_names, ArsListContext, ClosedContext, ConfirmationContext, InvitationContext, PostCatalog,
    Reason, RejectionContext, ResultContext, SessionFacts, Templates, VacanciesContext,
};
use choixbot::domain::{ArsId, ChoiceType, Email, Intern};
use chrono::TimeZone;

fn templates() -> Templates {
    Templates::load(None).expect("the built-in templates load")
}

fn ids(numbers: &[&str]) -> Vec<ArsId> {
    numbers.iter().map(|n| ArsId::parse(n).unwrap()).collect()
}

fn assignment(intern: &Intern, status: Status, ars_id: Option<&str>) -> Assignment {
    Assignment {
        email: intern.email.clone(),
        group: intern.group.clone(),
        rank: intern.rank,
        status,
        ars_id: ars_id.map(|n| ArsId::parse(n).unwrap()),
    }
}

/// The built-in invitation of the sample intern, as its text (the golden
/// tests quote it too).
pub(crate) fn invitation(session: SessionFacts, proxy: bool) -> String {
    let intern = sample_intern(ChoiceType::Classique);
    let context = InvitationContext::new(
        session,
        &intern,
        proxy,
        &PostCatalog::new(&sample_posts()),
        "abcdefghijk23456",
        "choix+abcdefghijk23456@asso.example",
    );
    templates().invitation(&context).unwrap().text
}

#[test]
fn the_built_in_templates_pass_the_start_up_check() {
    templates().check().expect("built-in templates render their samples");
}

#[test]
fn the_invitation_gives_group_rank_every_post_with_places_the_deadline_and_the_reference() {
    let text = invitation(sample_session(), false);
    for needle in [
        "Bonjour Zoé Lefèvre",
        "DES : Pédiatrie",
        "Rang sur la liste d'appel : 12",
        "Type de choix : classique",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    for line in [
        "n° 87 – CHI Créteil – Pédiatrie générale (Créteil) – 3 places",
        "n° 1234 – Hôpital Necker – Néonatologie (Paris) – 2 places",
        "n° 4521 – Hôpital Robert-Debré – Urgences pédiatriques (Paris) – 1 place",
        "n° 9012 – 1 place",
    ] {
        assert!(text.contains(line), "missing post line {line:?} in:\n{text}");
    }
    assert!(!text.contains("5678"), "a post of another group is offered:\n{text}");
    assert!(text.contains("lundi 4 mai 2020 à 23 h 59 (heure de Paris)"), "{text}");
    assert!(text.contains("abcdefghijk23456"), "{text}");
    assert!(text.contains("seule la dernière réponse valide compte"), "{text}");
    assert!(
        text.contains("1) 87") && text.contains("87, 1234 et 4521"),
        "examples use the group's posts:\n{text}"
    );
}

/// Regression: a group with a single post was shown "1) 87 2) 5678
/// 3) 9012" as the way to answer, numbers that are no post of the group
/// (or another group's), which an intern may copy as wishes.
#[test]
fn an_invitation_to_a_group_with_one_post_shows_no_made_up_number() {
    let single = choixbot::domain::Group::parse("Génétique médicale").unwrap();
    let mut posts = sample_posts();
    posts[2].group = single.clone();
    let mut intern = sample_intern(ChoiceType::Classique);
    intern.group = single;
    let context = InvitationContext::new(
        sample_session(),
        &intern,
        false,
        &PostCatalog::new(&posts),
        "t",
        "r@asso.example",
    );
    let rendered = templates().invitation(&context).unwrap();
    let html = rendered.html.expect("the invitation has an HTML part");
    for text in [&rendered.text, &html] {
        assert!(text.contains("1) 87"), "the example is not the group's own post:\n{text}");
        for other in ["1234", "4521", "5678", "9012"] {
            assert!(!text.contains(other), "{other} is not a post of the group, yet shown:\n{text}");
        }
    }
    let reply = format!("From: zoe.lefevre@exemple.fr\r\nSubject: Re: choix\r\n\r\n{}\r\n", {
        let start = rendered.text.find("1) 87").unwrap();
        &rendered.text[start..start + rendered.text[start..].find("\n\n").unwrap_or(40)]
    });
    let known = choixbot::reply::KnownPosts::new(["87", "1234", "4521", "5678", "9012"]);
    let parsed = choixbot::reply::parse(reply.as_bytes(), &known);
    assert_eq!(choixbot::reply::to_json(&parsed)["choices"], serde_json::json!(["87"]), "the copied example");
}

#[test]
fn the_invitation_deadline_uses_the_winter_offset_in_winter() {
    let deadline = chrono::Utc.with_ymd_and_hms(2020, 11, 4, 22, 59, 0).unwrap();
    let session = SessionFacts::new("Semestre d'hiver 2020", deadline, chrono_tz::Europe::Paris, &[]);
    let text = invitation(session, false);
    assert!(text.contains("mercredi 4 novembre 2020 à 23 h 59 (heure de Paris)"), "{text}");
}

#[test]
fn the_proxy_invitation_says_whom_they_choose_for() {
    let text = invitation(sample_session(), true);
    assert!(text.contains("procuration de Zoé Lefèvre"), "{text}");
    assert!(text.contains("Vous choisissez en son nom"), "{text}");
    assert!(!text.contains("Bonjour Zoé"), "the proxy is greeted as the intern:\n{text}");
}

#[test]
fn the_invitation_explains_the_supernumerary_rule_to_supernumeraries_only() {
    let render = |choice_type| {
        let intern = sample_intern(choice_type);
        let context = InvitationContext::new(
            sample_session(),
            &intern,
            false,
            &PostCatalog::new(&sample_posts()),
            "t",
            "r@asso.example",
        );
        templates().invitation(&context).unwrap().text
    };
    let validant = render(ChoiceType::SurnombreValidant);
    assert!(validant.contains("Type de choix : surnombre validant"), "{validant}");
    assert!(validant.contains("vous obtiendrez le premier de vos vœux\noù il reste une place"), "{validant}");
    let non_validant = render(ChoiceType::SurnombreNonValidant);
    assert!(non_validant.contains("même si toutes ses places sont prises"), "{non_validant}");
    assert!(!render(ChoiceType::Classique).contains("surnombre"));
}

#[test]
fn the_html_invitation_escapes_what_interns_typed() {
    let mut intern = sample_intern(ChoiceType::Classique);
    intern.first_name = "<script>alert(1)</script>".into();
    let context = InvitationContext::new(
        sample_session(),
        &intern,
        false,
        &PostCatalog::new(&sample_posts()),
        "t",
        "r@asso.example",
    );
    let rendered = templates().invitation(&context).unwrap();
    let html = rendered.html.expect("the invitation has an HTML part");
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
    assert!(rendered.text.contains("<script>"), "the text part is not HTML and is not escaped");
    assert!(html.contains("<td>1234</td>") && html.contains("lundi 4 mai 2020"), "{html}");
}

#[test]
fn the_confirmation_restates_the_wishes_in_order_and_the_provisional_result() {
    let intern = sample_intern(ChoiceType::Classique);
    let wishes = ids(&["4521", "1234", "9012"]);
    let provisional = assignment(&intern, Status::Assigned, Some("1234"));
    let context = ConfirmationContext::new(
        sample_session(),
        &intern,
        false,
        &wishes,
        &provisional,
        &PostCatalog::new(&sample_posts()),
    );
    let rendered = templates().confirmation(&context).unwrap();
    let text = rendered.text;
    let first = text.find("1. n° 4521 – Hôpital Robert-Debré").expect(&text);
    let second = text.find("2. n° 1234 – Hôpital Necker").expect(&text);
    let third = text.find("3. n° 9012").expect(&text);
    assert!(first < second && second < third, "{text}");
    assert!(text.contains("si la session était close maintenant"), "{text}");
    assert!(
        text.contains("vous obtiendriez\nle poste n° 1234 – Hôpital Necker – Néonatologie (Paris)."),
        "{text}"
    );
    assert!(text.contains("Vous pouvez les modifier jusqu'au lundi 4 mai 2020 à 23 h 59"), "{text}");
    assert!(rendered.html.unwrap().contains("<li>n° 4521"));
}

#[test]
fn the_confirmation_says_when_no_wish_would_be_obtained() {
    let intern = sample_intern(ChoiceType::Classique);
    let provisional = assignment(&intern, Status::Unassigned, None);
    let context = ConfirmationContext::new(
        sample_session(),
        &intern,
        false,
        &ids(&["4521"]),
        &provisional,
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().confirmation(&context).unwrap().text;
    assert!(text.contains("aucun poste") && text.contains("Ajoutez"), "{text}");
}

#[test]
fn the_rejection_gives_every_reason_naming_its_number_and_the_list_in_force() {
    let intern = sample_intern(ChoiceType::Classique);
    let reasons = [
        Reason::UnknownNumber("9999".into()),
        Reason::NotOpenToGroup { ars_id: "5678".into(), group: "Pédiatrie".into() },
        Reason::DuplicateNumber("1234".into()),
        Reason::TooManyNumbers { count: 45, max: 30 },
    ];
    let in_force = ids(&["4521", "1234"]);
    let context = RejectionContext::new(
        sample_session(),
        Some(&intern),
        false,
        &reasons,
        &in_force,
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().rejection(&context).unwrap().text;
    for reason in &reasons {
        assert!(text.contains(&reason.sentence()), "missing {reason:?} in:\n{text}");
    }
    for number in ["9999", "5678", "1234", "45"] {
        assert!(text.contains(number), "{number} not named:\n{text}");
    }
    assert!(text.contains("La liste précédente reste en vigueur"), "{text}");
    assert!(
        text.contains("1. n° 4521 – Hôpital Robert-Debré") && text.contains("2. n° 1234 – Hôpital Necker"),
        "{text}"
    );
    assert!(text.contains("jusqu'au lundi 4 mai 2020"), "{text}");
}

#[test]
fn the_rejection_says_when_no_wish_is_recorded() {
    let intern = sample_intern(ChoiceType::Classique);
    let context = RejectionContext::new(
        sample_session(),
        Some(&intern),
        false,
        &[Reason::NoNumberFound],
        &[],
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().rejection(&context).unwrap().text;
    assert!(text.contains("Aucun vœu enregistré"), "{text}");
    assert!(text.contains(&Reason::NoNumberFound.sentence()), "{text}");
    assert!(!text.contains("reste en vigueur"), "{text}");
}

#[test]
fn a_rejection_after_the_deadline_does_not_invite_a_new_try() {
    let intern = sample_intern(ChoiceType::Classique);
    let context = RejectionContext::new(
        sample_session(),
        Some(&intern),
        false,
        &[Reason::AfterDeadline],
        &[],
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().rejection(&context).unwrap().text;
    assert!(
        text.contains(&Reason::AfterDeadline.sentence()) && !text.contains("répondre de nouveau"),
        "{text}"
    );
}

#[test]
fn the_closed_answer_says_nothing_changes_and_what_was_recorded() {
    let intern = sample_intern(ChoiceType::Classique);
    let result = assignment(&intern, Status::Assigned, Some("1234"));
    let context = ClosedContext::new(
        sample_session(),
        &intern,
        false,
        &ids(&["4521", "1234"]),
        Some(&result),
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().closed(&context).unwrap().text;
    assert!(text.contains("il ne change rien"), "{text}");
    assert!(text.contains("1. n° 4521") && text.contains("2. n° 1234"), "{text}");
    assert!(text.contains("Résultat : poste n° 1234 – Hôpital Necker"), "{text}");
}

#[test]
fn the_result_names_the_post_the_surnombre_or_the_absence() {
    let intern = sample_intern(ChoiceType::SurnombreValidant);
    let all_posts = sample_posts();
    let posts = PostCatalog::new(&all_posts);
    let render = |status, ars_id, wishes: &[&str]| {
        let context = ResultContext::new(
            sample_session(),
            &intern,
            false,
            &assignment(&intern, status, ars_id),
            &ids(wishes),
            &posts,
        );
        templates().result(&context).unwrap().text
    };
    let surnombre = render(Status::Surnombre, Some("4521"), &["4521"]);
    assert!(surnombre.contains("Poste obtenu en surnombre : n° 4521 – Hôpital Robert-Debré"), "{surnombre}");
    let assigned = render(Status::Assigned, Some("87"), &["87"]);
    assert!(assigned.contains("Poste obtenu : n° 87 – CHI Créteil"), "{assigned}");
    let absent = render(Status::Absent, None, &[]);
    assert!(absent.contains("absent(e)") && absent.contains("postes restés vacants"), "{absent}");
    let unassigned = render(Status::Unassigned, None, &["4521"]);
    assert!(unassigned.contains("Aucun des postes demandés"), "{unassigned}");
}

#[test]
fn the_vacancies_notice_lists_places_left_and_whom_to_contact() {
    let intern = sample_intern(ChoiceType::Classique);
    let vacancy = |ars_id: &str, group: &str, places_left| Vacancy {
        ars_id: ArsId::parse(ars_id).unwrap(),
        group: choixbot::domain::Group::parse(group).unwrap(),
        places_left,
    };
    let vacancies = [
        vacancy("87", "Pédiatrie", 2),
        vacancy("9012", "Pédiatrie", 1),
        vacancy("5678", "Médecine générale", 1),
    ];
    let deadline = chrono::Utc.with_ymd_and_hms(2020, 5, 4, 21, 59, 0).unwrap();
    let referents = [Email::parse("ref1@asso.example").unwrap(), Email::parse("ref2@asso.example").unwrap()];
    let session = SessionFacts::new("Semestre d'été 2020", deadline, chrono_tz::Europe::Paris, &referents);
    let absent = assignment(&intern, Status::Absent, None);
    let context = VacanciesContext::new(
        session,
        &intern,
        false,
        &absent,
        &vacancies,
        &PostCatalog::new(&sample_posts()),
    );
    let text = templates().vacancies(&context).unwrap().text;
    assert!(
        text.contains("n° 87 – CHI Créteil – Pédiatrie générale (Créteil) – 2 places restantes"),
        "{text}"
    );
    assert!(text.contains("n° 9012 – 1 place restante"), "{text}");
    assert!(!text.contains("5678"), "another group's vacancy is offered:\n{text}");
    assert!(text.contains("ref1@asso.example") && text.contains("ref2@asso.example"), "{text}");
    assert!(text.contains("contactez-nous"), "{text}");
}

#[test]
fn every_answer_to_a_reply_has_an_html_part_saying_the_same() {
    let samples = Samples::new();
    let t = templates();
    let answers = [
        ("rejection", t.rejection(&samples.rejection).unwrap(), "9999"),
        ("closed", t.closed(&samples.closed).unwrap(), "il ne change rien"),
    ];
    for (name, rendered, phrase) in answers {
        let html = rendered.html.unwrap_or_else(|| panic!("the {name} answer has no HTML part"));
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Les référents"), "{name}:\n{html}");
        assert!(rendered.text.contains(phrase) && html.contains(phrase), "{name} lacks {phrase:?}:\n{html}");
    }
}

#[test]
fn the_html_rejection_escapes_what_interns_typed() {
    let mut intern = sample_intern(ChoiceType::Classique);
    intern.last_name = "<img src=x onerror=alert(1)>".into();
    let reasons = [Reason::UnknownNumber("<b>9999</b>".into())];
    let context = RejectionContext::new(
        sample_session(),
        Some(&intern),
        false,
        &reasons,
        &[],
        &PostCatalog::new(&sample_posts()),
    );
    let html = templates().rejection(&context).unwrap().html.unwrap();
    assert!(html.contains("&lt;img") && !html.contains("<img"), "{html}");
    assert!(html.contains("&lt;b&gt;9999") && !html.contains("<b>"), "{html}");
}

#[test]
fn the_ars_email_carries_the_summary_as_given() {
    let summary = "Pédiatrie\n  1  MARTIN Léa  classique  n° 1234\n  2  DURAND Paul  absent";
    let attachment = |name: &str| choixbot::answer::Attachment {
        name: name.into(),
        content_type: choixbot::answer::CSV_CONTENT_TYPE.into(),
        bytes: Vec::new(),
    };
    let context = ArsListContext::new(
        sample_session(),
        summary.into(),
        &[attachment("liste.csv"), attachment("liste.xlsx")],
        2,
    );
    let text = templates().ars_list(&context).unwrap().text;
    assert!(text.contains(summary), "{text}");
    assert!(text.contains("liste.csv, liste.xlsx") && text.contains("(2 internes)"), "{text}");
}

#[test]
fn a_broken_override_is_refused_naming_the_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rejection.txt.tera"), "Bonjour {% if %}").unwrap();
    let error = Templates::load(Some(dir.path())).unwrap_err().to_string();
    assert!(error.contains("rejection.txt.tera"), "{error}");
}

#[test]
fn an_override_that_does_not_render_fails_the_check_naming_the_template_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("closed.txt.tera"), "Bonjour {{ intern.surname }}").unwrap();
    let templates = Templates::load(Some(dir.path())).expect("it parses");
    let error = templates.check().unwrap_err().to_string();
    assert!(error.contains("closed.txt.tera") && error.contains("intern.surname"), "{error}");
}

#[test]
fn an_override_replaces_only_its_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("result.txt.tera"), "Résultat pour {{ intern.first_name }}").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    templates.check().unwrap();
    let samples = Samples::new();
    assert_eq!(templates.result(&samples.result).unwrap().text, "Résultat pour Zoé");
    let builtin = Templates::load(None).unwrap();
    assert_eq!(templates.closed(&samples.closed).unwrap(), builtin.closed(&samples.closed).unwrap());
    // 12 for the list by email, 16 for the answers to the commands and the
    // notices (SPEC §11), each in text and HTML, and the amphi's one.
    assert_eq!(template_names().count(), 29);
}

#[test]
fn the_answers_to_the_commands_can_be_reworded_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("status.txt.tera"),
        "Statut de {{ intern.first_name }} : {{ result.status }}",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    templates.check().unwrap();
    let samples = choixbot::answer::CommandSamples::new();
    let status = templates.status(&samples.status).unwrap();
    assert_eq!((status.text.as_str(), status.html), ("Statut de Zoé : assigned", None));
    let builtin = Templates::load(None).unwrap();
    assert_eq!(templates.notice(&samples.notice).unwrap(), builtin.notice(&samples.notice).unwrap());
    assert!(builtin.notice(&samples.notice).unwrap().text.contains("a pris le poste n° 4521"));
}

#[test]
fn an_email_whose_text_alone_is_rewritten_goes_out_as_text_only() {
    // The referent's wording would hide behind the built-in HTML, which
    // mail clients show first.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("closed.txt.tera"), "Trop tard, {{ intern.first_name }}").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let samples = Samples::new();
    let closed = templates.closed(&samples.closed).unwrap();
    assert_eq!((closed.text.as_str(), closed.html), ("Trop tard, Zoé", None));
    assert!(templates.rejection(&samples.rejection).unwrap().html.is_some(), "other emails keep their HTML");
}

#[test]
fn an_override_of_both_parts_keeps_the_html() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("closed.txt.tera"), "Trop tard, {{ intern.first_name }}").unwrap();
    std::fs::write(dir.path().join("closed.html.tera"), "<p>Trop tard, {{ intern.first_name }}</p>").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let rendered = templates.closed(&Samples::new().closed).unwrap();
    assert_eq!(rendered.html.as_deref(), Some("<p>Trop tard, Zoé</p>"));
}

#[test]
fn a_missing_override_directory_is_an_error_naming_it() {
    let error = Templates::load(Some(std::path::Path::new("/nonexistent/choixbot-templates"))).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/choixbot-templates"), "{error}");
}

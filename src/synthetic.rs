//! Large synthetic sessions for benchmarks and load tests: a realistic
//! shape (a few big groups and many small ones, popular posts most interns
//! want, 1 to 10 wishes each, some absent interns, about 2% supernumeraries,
//! some posts opened to two groups), made deterministically from a seed so a
//! benchmark measures the same session every run.
//!
//! [`SyntheticSession::write_csv`] writes the session in the import format
//! of SPEC §4, the way a referent's Excel would.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::allocation::AllocationInput;
use crate::domain::{normalize_key, ArsId, ChoiceType, Email, Group, Intern, Post, Rank};

/// The most wishes an intern of a synthetic session writes.
pub const MAX_WISHES: usize = 10;

const DES: &[&str] = &[
    "Médecine générale",
    "Anesthésie-réanimation",
    "Cardiologie",
    "Chirurgie orthopédique",
    "Dermatologie",
    "Endocrinologie",
    "Gastro-entérologie",
    "Gériatrie",
    "Gynécologie médicale",
    "Gynécologie obstétrique",
    "Hématologie",
    "Maladies infectieuses",
    "Médecine d'urgence",
    "Médecine interne",
    "Médecine du travail",
    "Néphrologie",
    "Neurologie",
    "Oncologie",
    "Ophtalmologie",
    "ORL",
    "Pédiatrie",
    "Pneumologie",
    "Psychiatrie",
    "Radiologie",
    "Rhumatologie",
    "Santé publique",
    "Urologie",
    "Biologie médicale",
    "Médecine légale",
    "Chirurgie viscérale",
];
const PHASES: &[&str] = &["socle", "approfondissement", "consolidation"];
const HOSPITALS: &[&str] = &[
    "Bichat",
    "Pitié-Salpêtrière",
    "Saint-Louis",
    "Lariboisière",
    "Cochin",
    "Necker",
    "Tenon",
    "Saint-Antoine",
    "Avicenne",
    "Jean-Verdier",
    "Bicêtre",
    "Henri-Mondor",
    "Ambroise-Paré",
    "Louis-Mourier",
    "CH de Versailles",
    "CH de Meaux",
    "CH Sud Francilien",
    "Foch",
];
const SERVICES: &[&str] = &[
    "Cardiologie",
    "Urgences",
    "Réanimation médicale",
    "Médecine interne",
    "Pédiatrie générale",
    "Neurologie vasculaire",
    "Pneumologie",
    "Gériatrie aiguë",
    "Psychiatrie adulte",
    "Cabinet de ville",
];
const CITIES: &[&str] = &["Paris", "Clichy", "Bobigny", "Créteil", "Boulogne", "Versailles", "Meaux", "Évry"];
const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Lefèvre",
    "Garnier",
    "Faure",
    "Rousseau",
    "N'Diaye",
    "D'Almeida",
    "Nguyen",
    "Benali",
    "Müller",
    "Éloi",
];
const FIRST_NAMES: &[&str] = &[
    "Camille",
    "Léa",
    "Chloé",
    "Inès",
    "Manon",
    "Zoé",
    "Hugo",
    "Lucas",
    "Noé",
    "Théo",
    "Raphaël",
    "Jean-Baptiste",
    "Anaïs",
    "Maëlle",
    "Océane",
    "Yanis",
    "Amine",
    "Sofia",
    "Héloïse",
    "Gaël",
];

/// A generated session.
#[derive(Debug, Clone)]
pub struct SyntheticSession {
    /// Every post, all groups together.
    pub posts: Vec<Post>,
    /// Every intern, by group then rank.
    pub interns: Vec<Intern>,
    /// The wishes of the interns who are not absent.
    pub wishes: HashMap<Email, Vec<ArsId>>,
}

/// Makes a session of `interns` interns and `places` places in all, spread
/// over `groups` groups (at least one), from `seed`.
pub fn session(interns: usize, places: usize, groups: usize, seed: u64) -> SyntheticSession {
    let mut rng = StdRng::seed_from_u64(seed);
    let names = group_names(groups.max(1));
    // One big group (like Médecine générale) and the others of varied sizes.
    let weights: Vec<f64> =
        (0..names.len()).map(|g| if g == 0 { 8.0 } else { rng.gen_range(0.5..3.0) }).collect();
    let intern_counts = split(interns, &weights);
    let place_counts = split(places, &weights);
    let posts = make_posts(&mut rng, &names, &place_counts);
    let mut session = SyntheticSession { posts, interns: Vec::new(), wishes: HashMap::new() };
    for (group, &count) in names.iter().zip(&intern_counts) {
        let open: Vec<&Post> = session.posts.iter().filter(|p| &p.group == group).collect();
        let popularity = popularity(&mut rng, open.len());
        for rank in 1..=count {
            let intern = make_intern(&mut rng, group, rank, session.interns.len());
            if !open.is_empty() && !rng.gen_bool(0.05) {
                let wishes = pick_wishes(&mut rng, &open, &popularity);
                session.wishes.insert(intern.email.clone(), wishes);
            }
            session.interns.push(intern);
        }
    }
    session
}

impl SyntheticSession {
    /// The allocation input of this session.
    pub fn input(&self, supernumerary_cap: u32) -> AllocationInput<'_> {
        AllocationInput {
            posts: &self.posts,
            interns: &self.interns,
            wishes: &self.wishes,
            supernumerary_cap,
        }
    }

    /// Writes `posts.csv`, `interns.csv` and `choices.csv` into `dir` (which
    /// must exist), `;`-separated with the French headers of SPEC §4.
    pub fn write_csv(&self, dir: &Path) -> anyhow::Result<()> {
        let posts = ["n° ARS", "DES", "nombre de postes", "hôpital", "service", "ville"];
        write_file(&dir.join("posts.csv"), &posts, self.posts.iter().map(post_row))?;
        let interns = ["rang", "nom", "prénom", "DES", "courriel", "type de choix", "procuration"];
        write_file(&dir.join("interns.csv"), &interns, self.interns.iter().map(intern_row))?;
        let mut choices = vec!["courriel".to_string()];
        choices.extend((1..=MAX_WISHES).map(|n| format!("choix {n}")));
        let rows = self.interns.iter().filter_map(|intern| {
            let wishes = self.wishes.get(&intern.email)?;
            let mut row = vec![intern.email.to_string()];
            row.extend(wishes.iter().map(ToString::to_string));
            row.resize(MAX_WISHES + 1, String::new()); // rectangular, as Excel writes it
            Some(row)
        });
        write_file(&dir.join("choices.csv"), &choices, rows)
    }
}

fn post_row(post: &Post) -> Vec<String> {
    let fields = [&post.ars_id.to_string(), post.group.as_str(), &post.places.to_string()];
    let labels = [&post.hospital, &post.service, &post.city];
    fields.iter().map(|f| f.to_string()).chain(labels.iter().map(|l| l.to_string())).collect()
}

fn intern_row(intern: &Intern) -> Vec<String> {
    vec![
        intern.rank.to_string(),
        intern.last_name.clone(),
        intern.first_name.clone(),
        intern.group.to_string(),
        intern.email.to_string(),
        intern.choice_type.label().to_string(),
        intern.proxy_email.as_ref().map(ToString::to_string).unwrap_or_default(),
    ]
}

fn write_file<H: AsRef<[u8]>>(
    path: &Path,
    header: &[H],
    rows: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<()> {
    let write = || -> anyhow::Result<()> {
        let mut writer = csv::WriterBuilder::new().delimiter(b';').from_path(path)?;
        writer.write_record(header)?;
        for row in rows {
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// `count` group names: the DES list, then the DES with a phase.
fn group_names(count: usize) -> Vec<Group> {
    let phased = PHASES.iter().flat_map(|phase| DES.iter().map(move |des| format!("{des} - {phase}")));
    let names = DES.iter().map(|des| des.to_string()).chain(phased);
    let numbered = (1..).map(|n| format!("DES {n}"));
    names.chain(numbered).take(count).map(|name| Group::parse(&name).expect("a valid group name")).collect()
}

/// Splits `total` in parts proportional to `weights`, summing to `total`.
fn split(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<usize> = weights.iter().map(|w| (total as f64 * w / sum).floor() as usize).collect();
    let missing = total - parts.iter().sum::<usize>();
    let len = parts.len();
    for i in 0..missing {
        parts[i % len] += 1;
    }
    parts
}

/// The posts of every group, `place_counts[g]` places for group `g`: mostly
/// one or two places per post; about one post in twenty reuses the ARS
/// number of another group's post (a post opened to two groups).
fn make_posts(rng: &mut StdRng, groups: &[Group], place_counts: &[usize]) -> Vec<Post> {
    let mut posts: Vec<Post> = Vec::new();
    let mut next_id = 1000u32;
    for (group, &budget) in groups.iter().zip(place_counts) {
        let first_of_group = posts.len();
        let mut left = budget as u32;
        while left > 0 {
            let places = [1, 1, 1, 2, 2, 3, 4][rng.gen_range(0..7)].min(left);
            left -= places;
            let shared = (first_of_group > 0 && rng.gen_bool(0.05))
                .then(|| posts[rng.gen_range(0..first_of_group)].clone())
                .filter(|other| !posts[first_of_group..].iter().any(|p| p.ars_id == other.ars_id));
            let post = match shared {
                Some(other) => Post { group: group.clone(), places, ..other },
                None => {
                    next_id += rng.gen_range(1..4);
                    Post {
                        ars_id: ArsId::parse(&next_id.to_string()).expect("a valid ARS number"),
                        group: group.clone(),
                        places,
                        hospital: HOSPITALS[rng.gen_range(0..HOSPITALS.len())].to_string(),
                        service: SERVICES[rng.gen_range(0..SERVICES.len())].to_string(),
                        city: CITIES[rng.gen_range(0..CITIES.len())].to_string(),
                    }
                }
            };
            posts.push(post);
        }
    }
    posts
}

/// Cumulative weights of `count` posts, following Zipf's law over a random
/// order: a few posts are wanted by almost everyone.
fn popularity(rng: &mut StdRng, count: usize) -> Vec<f64> {
    let mut ranks: Vec<usize> = (1..=count).collect();
    for i in (1..count).rev() {
        ranks.swap(i, rng.gen_range(0..=i));
    }
    let mut total = 0.0;
    ranks
        .iter()
        .map(|&r| {
            total += 1.0 / r as f64;
            total
        })
        .collect()
}

/// 1 to 10 distinct wishes among `open`, drawn by popularity.
fn pick_wishes(rng: &mut StdRng, open: &[&Post], cumulative: &[f64]) -> Vec<ArsId> {
    let count = rng.gen_range(1..=MAX_WISHES).min(open.len());
    let total = cumulative[cumulative.len() - 1];
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count {
        let x = rng.gen_range(0.0..total);
        let index = cumulative.partition_point(|&c| c <= x).min(open.len() - 1);
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    picked.into_iter().map(|i| open[i].ars_id.clone()).collect()
}

fn make_intern(rng: &mut StdRng, group: &Group, rank: usize, serial: usize) -> Intern {
    let last_name = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())].to_string();
    let first_name = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())].to_string();
    let local = format!("{}.{}.{serial}", normalize_key(&first_name), normalize_key(&last_name));
    let choice_type = match rng.gen_range(0..100) {
        0 => ChoiceType::SurnombreValidant,
        1 => ChoiceType::SurnombreNonValidant,
        _ => ChoiceType::Classique,
    };
    let proxy_email = rng.gen_bool(0.01).then(|| Email::parse(&format!("proche.{serial}@exemple.fr")));
    Intern {
        rank: Rank::new(rank as u32).expect("ranks start at 1"),
        last_name,
        first_name,
        group: group.clone(),
        email: Email::parse(&format!("{local}@exemple.fr")).expect("a valid generated email"),
        choice_type,
        proxy_email: proxy_email.map(|e| e.expect("a valid generated email")),
    }
}

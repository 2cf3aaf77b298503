//! French words for what the emails say: the deadline as a person writes it
//! ("lundi 4 mai 2020 à 23 h 59 (heure de Paris)") and counts of places.
//!
//! No locale crate: French day and month names are twelve and seven words,
//! and writing them here keeps the output exact and the build small. The
//! instant is always converted to the session's time zone with chrono-tz, so
//! the same deadline reads correctly in summer (UTC+2) and winter (UTC+1).

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "lundi 4 mai 2020 à 23 h 59 (heure de Paris)".
///
/// The first day of a month is written "1er", as French typography wants.
/// The zone is named after its city ("heure de Paris"), which is what an
/// intern abroad needs to convert it; for a zone without a city the IANA
/// name is given.
pub fn deadline_in_words(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    format!(
        "{} à {} h {:02} ({})",
        date_in_words(local.date_naive()),
        local.hour(),
        local.minute(),
        zone_in_words(tz)
    )
}

/// "lundi 4 mai 2020 à 23 h 59 min 58 s (heure de Paris)": an instant to
/// the second, for when a reply was received next to the deadline.
pub fn instant_in_words(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    format!(
        "{} à {} h {:02} min {:02} s ({})",
        date_in_words(local.date_naive()),
        local.hour(),
        local.minute(),
        local.second(),
        zone_in_words(tz)
    )
}

/// [`instant_in_words`] of a timestamp as the store keeps it (ms since the
/// epoch); empty for one out of chrono's range.
pub fn ms_in_words(ms: i64, tz: Tz) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| instant_in_words(at, tz)).unwrap_or_default()
}

/// "lundi 4 mai 2020", "vendredi 1er mai 2020".
pub fn date_in_words(date: chrono::NaiveDate) -> String {
    let day = date.day();
    let day = if day == 1 { "1er".to_string() } else { day.to_string() };
    format!(
        "{} {} {} {}",
        DAYS[date.weekday().num_days_from_monday() as usize],
        day,
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// The city part of the IANA name, underscores as spaces: "heure de Paris"
/// for `Europe/Paris`.
fn zone_in_words(tz: Tz) -> String {
    let name = tz.name();
    match name.rsplit_once('/') {
        Some((_, city)) => format!("heure de {}", city.replace('_', " ")),
        None => format!("heure {name}"),
    }
}

/// "1 place", "3 places".
pub fn places_in_words(places: u32) -> String {
    if places == 1 {
        "1 place".into()
    } else {
        format!("{places} places")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn summer_deadline_is_read_at_utc_plus_two() {
        let instant = Utc.with_ymd_and_hms(2020, 5, 4, 21, 59, 0).unwrap();
        assert_eq!(
            deadline_in_words(instant, chrono_tz::Europe::Paris),
            "lundi 4 mai 2020 à 23 h 59 (heure de Paris)"
        );
    }

    #[test]
    fn winter_deadline_is_read_at_utc_plus_one() {
        let instant = Utc.with_ymd_and_hms(2020, 11, 4, 22, 59, 0).unwrap();
        assert_eq!(
            deadline_in_words(instant, chrono_tz::Europe::Paris),
            "mercredi 4 novembre 2020 à 23 h 59 (heure de Paris)"
        );
    }

    #[test]
    fn first_of_the_month_and_midnight_minutes_are_written_the_french_way() {
        let instant = Utc.with_ymd_and_hms(2020, 5, 1, 7, 5, 0).unwrap();
        assert_eq!(
            deadline_in_words(instant, chrono_tz::Europe::Paris),
            "vendredi 1er mai 2020 à 9 h 05 (heure de Paris)"
        );
        let instant = Utc.with_ymd_and_hms(2021, 8, 15, 12, 0, 0).unwrap();
        assert_eq!(
            deadline_in_words(instant, chrono_tz::America::Guadeloupe),
            "dimanche 15 août 2021 à 8 h 00 (heure de Guadeloupe)"
        );
    }

    #[test]
    fn places_agree_in_number() {
        assert_eq!(places_in_words(1), "1 place");
        assert_eq!(places_in_words(4), "4 places");
    }
}

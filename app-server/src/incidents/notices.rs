//! Recording a notice as sent (`POST …/events` with `kind: notice_sent`): which obligation of
//! the incident it answers. The jurisdiction must be one the rule table knows, the audience one
//! the incident's obligations in that jurisdiction have, and the recipient one of theirs (it may
//! be left out when the audience has exactly one); the day may not be in the future nor before
//! the discovery date. Anything else is refused with the obligations that do exist, and nothing
//! is written.

use time::Date;

use super::IncidentError;
use super::facts::{Facts, NoticeSent, parse_day};
use super::obligations::tracked;
use crate::db::entities::incident_reminders::Audience;
use crate::invalid_input::{InvalidInput, Reason};

/// A `notice_sent` event as given, before it is matched to an obligation.
#[derive(Clone, Debug)]
pub struct NoticeRequest {
    jurisdiction: String,
    audience: Audience,
    recipient: Option<String>,
    sent_on: Date,
}

fn refused(message: impl Into<String>) -> InvalidInput {
    InvalidInput::new(Reason::InvalidIncidentFacts, message)
}

/// Parses the fields of a `notice_sent` event.
pub fn request(
    jurisdiction: Option<&str>,
    audience: Option<&str>,
    recipient: Option<&str>,
    date: &str,
) -> Result<NoticeRequest, InvalidInput> {
    let needs = |what: &str| {
        InvalidInput::new(
            Reason::InvalidEventKind,
            format!("a notice_sent event needs {what}"),
        )
    };
    let jurisdiction = jurisdiction
        .map(|j| j.trim().to_ascii_uppercase())
        .filter(|j| !j.is_empty())
        .ok_or_else(|| needs("a jurisdiction (e.g. US-CA)"))?;
    let audience_text = audience
        .map(str::trim)
        .ok_or_else(|| needs("an audience"))?;
    let audience = Audience::ALL
        .into_iter()
        .find(|a| a.as_str() == audience_text)
        .ok_or_else(|| {
            refused("audience must be individuals, regulator, consumer_reporting_agencies or media")
        })?;
    let recipient = recipient
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    Ok(NoticeRequest {
        jurisdiction,
        audience,
        recipient,
        sent_on: parse_day("date", date)?,
    })
}

/// Matches a request to one of the incident's obligations on `today`.
pub fn resolve(
    facts: &Facts,
    request: NoticeRequest,
    today: Date,
) -> Result<NoticeSent, IncidentError> {
    let table = super::rule_table()?;
    let NoticeRequest {
        jurisdiction,
        audience,
        recipient,
        sent_on,
    } = request;
    if !table.knows_jurisdiction(&jurisdiction) {
        return Err(refused(format!(
            "unknown jurisdiction {jurisdiction:?} (use one the rule table lists, e.g. US-CA or EU-GDPR)"
        ))
        .into());
    }
    if sent_on > today {
        return Err(refused(format!(
            "date ({sent_on}) is in the future (today is {today}, UTC)"
        ))
        .into());
    }
    let (all, _) = tracked(facts, today)?;
    let here: Vec<_> = all
        .iter()
        .filter(|t| t.obligation.jurisdiction == jurisdiction)
        .collect();
    let describe = |t: &&super::obligations::Tracked| match &t.obligation.recipient {
        Some(r) => format!("{} ({r})", t.audience.as_str()),
        None => t.audience.as_str().to_owned(),
    };
    let candidates: Vec<_> = here.iter().filter(|t| t.audience == audience).collect();
    if candidates.is_empty() {
        let known: Vec<String> = here.iter().map(describe).collect();
        return Err(refused(if known.is_empty() {
            format!(
                "this incident has no obligations in {jurisdiction}: record its affected people first"
            )
        } else {
            format!(
                "{jurisdiction} has no {} notice for this incident; its notices: {}",
                audience.as_str(),
                known.join(", ")
            )
        })
        .into());
    }
    let recipient = if audience == Audience::Individuals {
        if recipient.is_some() {
            return Err(refused(
                "recipient applies to notices to a regulator, the consumer reporting agencies or the media",
            )
            .into());
        }
        None
    } else {
        let names: Vec<&str> = candidates
            .iter()
            .filter_map(|t| t.obligation.recipient.as_deref())
            .collect();
        match recipient {
            Some(given) => Some(
                names
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(&given))
                    .map(|n| (*n).to_owned())
                    .ok_or_else(|| {
                        refused(format!(
                            "{jurisdiction} has no {} notice to {given:?}; recipients: {}",
                            audience.as_str(),
                            names.join("; ")
                        ))
                    })?,
            ),
            None if names.len() == 1 => Some(names[0].to_owned()),
            None => {
                return Err(refused(format!(
                    "name the recipient: {jurisdiction} has {} {} notices ({})",
                    names.len(),
                    audience.as_str(),
                    names.join("; ")
                ))
                .into());
            }
        }
    };
    Ok(NoticeSent {
        jurisdiction,
        audience,
        recipient,
        sent_on,
    })
}

//! Person names in free text: runs of capitalised words that the name dictionaries, a title
//! ("Mr.", "Dr.") or the context (a name keyword, a greeting or sign-off) confirm.

use super::{Context, Found, NamePart, Patterns};
use crate::classify::EntityType;
use crate::classify::context::Hint;
use crate::classify::dict;

/// True when only punctuation or a line end follows a sign-off name.
fn sign_off_end(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    let rest = rest.trim_start_matches([' ', '.', '!', ',']);
    rest.is_empty() || rest.starts_with('\n')
}

/// Capitalised words that start or end a sentence around a name but are not part of it.
pub(super) fn is_name_stopword(word: &str) -> bool {
    matches!(
        word,
        "Dear"
            | "Hi"
            | "Hello"
            | "Hey"
            | "Thanks"
            | "Thank"
            | "Regards"
            | "Sincerely"
            | "Best"
            | "Cheers"
            | "The"
            | "This"
            | "That"
            | "Our"
            | "Your"
            | "My"
            | "Please"
            | "Customer"
            | "Client"
            | "Agent"
            | "Order"
            | "Ship"
            | "Shipped"
            | "Billing"
            | "Shipping"
            | "Contact"
            | "Card"
            | "Account"
            | "Holder"
            | "Cardholder"
            | "Name"
            | "Attn"
            | "From"
            | "To"
            | "Re"
            | "Subject"
            | "Note"
            | "Support"
            | "Team"
            | "Mr"
            | "Mrs"
            | "Ms"
            | "Miss"
            | "Mx"
            | "Dr"
            | "Prof"
            | "Mr."
            | "Mrs."
            | "Ms."
            | "Dr."
            | "Mx."
            | "January"
            | "February"
            | "March"
            | "April"
            | "May"
            | "June"
            | "July"
            | "August"
            | "September"
            | "October"
            | "November"
            | "December"
            | "Monday"
            | "Tuesday"
            | "Wednesday"
            | "Thursday"
            | "Friday"
            | "Saturday"
            | "Sunday"
            | "Customers"
            | "Passport"
            | "License"
            | "Phone"
            | "Email"
            | "Address"
            | "Street"
            | "Ave"
            | "Apt"
            | "Suite"
            | "Unit"
            | "Date"
            | "Birth"
            | "Born"
            | "Social"
            | "Security"
            | "Visa"
            | "Mastercard"
            | "Amex"
            | "Discover"
            | "Routing"
            | "Bank"
            | "Checking"
            | "Savings"
            | "Tax"
            | "Status"
            | "Refund"
            | "Return"
            | "Total"
            | "Tracking"
            | "Gift"
            | "New"
            | "Inc"
            | "Llc"
            | "Ltd"
            | "Co"
    )
}

fn is_title(word: &str) -> bool {
    matches!(
        word,
        "Mr" | "Mrs"
            | "Ms"
            | "Miss"
            | "Mx"
            | "Dr"
            | "Prof"
            | "Mr."
            | "Mrs."
            | "Ms."
            | "Dr."
            | "Mx."
    )
}

/// Capitalised word sequences that a name dictionary, a title or the context confirms.
pub(super) fn scan_names(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let words: Vec<(usize, usize)> = patterns
        .name_word
        .find_iter(text)
        .filter(|m| {
            let before_ok = m.start() == 0
                || !text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
            let after_ok = text[m.end()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            before_ok && after_ok
        })
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut idx = 0;
    while idx < words.len() {
        // Gather a run of words separated by single spaces.
        let mut run = vec![words[idx]];
        let mut next = idx + 1;
        while next < words.len() && run.len() < 6 {
            let prev_end = run[run.len() - 1].1;
            let spaced = words[next].0 == prev_end + 1 && bytes[prev_end] == b' ';
            // "Mr. Smith": a title's period does not end the run.
            let after_title = words[next].0 == prev_end + 2
                && bytes[prev_end] == b'.'
                && bytes[prev_end + 1] == b' '
                && is_title(&text[run[run.len() - 1].0..prev_end]);
            if spaced || after_title {
                run.push(words[next]);
                next += 1;
            } else {
                break;
            }
        }
        idx = next;
        let word = |r: &(usize, usize)| &text[r.0..r.1];
        let mut titled = false;
        while let Some(first) = run.first() {
            let w = word(first);
            if is_name_stopword(w) {
                titled |= is_title(w);
                run.remove(0);
            } else {
                break;
            }
        }
        while run.last().is_some_and(|last| {
            let w = word(last);
            is_name_stopword(w) || w.ends_with('.')
        }) {
            run.pop();
        }
        run.truncate(4);
        let Some(&first) = run.first() else { continue };
        let Some(&last) = run.last() else { continue };
        if word(&first).ends_with('.') {
            continue;
        }
        let start = first.0;
        let end = last.1;
        let hint = ctx.at(start);
        let name_hint = matches!(
            hint,
            Some(
                Hint::FullName
                    | Hint::MaybeName
                    | Hint::GivenName
                    | Hint::FamilyName
                    | Hint::Greeting
            )
        );
        let first_given = dict::is_given_name(word(&first));
        let last_known = dict::is_surname(word(&last)) || dict::is_given_name(word(&last));
        let score = if run.len() >= 2 {
            match (first_given, last_known) {
                (true, true) => 0.85,
                (true, false) | (false, true) if name_hint || titled => 0.85,
                (true, false) | (false, true) => 0.6,
                (false, false) if titled || hint == Some(Hint::FullName) => 0.75,
                (false, false)
                    if ctx.near(start, 4) == Some(Hint::Greeting) && sign_off_end(text, end) =>
                {
                    0.7
                }
                (false, false) if ctx.near(start, 5) == Some(Hint::MaybeName) => 0.7,
                _ => 0.0,
            }
        } else if first_given
            && (ctx.near(start, 8) == Some(Hint::Greeting)
                || name_hint && ctx.near(start, 8).is_some())
        {
            0.65
        } else if ctx.near(start, 3) == Some(Hint::Greeting) && sign_off_end(text, end) {
            // "Thanks,\nPriya" at the end of a message.
            0.6
        } else if titled && dict::is_surname(word(&first)) {
            0.7
        } else {
            0.0
        };
        if score > 0.0 {
            let part = if run.len() >= 2 {
                NamePart::Full
            } else if titled {
                NamePart::Family
            } else {
                NamePart::Given
            };
            found.push(Found {
                name_part: part,
                ..Found::new(start, end, EntityType::Person, score)
            });
        }
    }
}

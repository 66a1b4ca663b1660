//! Day arithmetic for deadlines: calendar days, and US business days (Monday to Friday, not a
//! federal holiday under 5 U.S.C. § 6103, with the Saturday-to-Friday and Sunday-to-Monday
//! observance rule). No built-in rule counts business days today; rules and counsel overrides
//! may (e.g. "5 business days"), so the arithmetic is here and tested.

use time::{Date, Duration, Month, Weekday};

fn nth_weekday(year: i32, month: Month, weekday: Weekday, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + weekday.number_days_from_monday() as i64
        - first.weekday().number_days_from_monday() as i64)
        % 7;
    first.checked_add(Duration::days(offset + 7 * (i64::from(n) - 1)))
}

fn last_weekday(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let next_month_first = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1),
        _ => Date::from_calendar_date(year, month.next(), 1),
    }
    .ok()?;
    let last = next_month_first.previous_day()?;
    let back = (7 + last.weekday().number_days_from_monday() as i64
        - weekday.number_days_from_monday() as i64)
        % 7;
    last.checked_sub(Duration::days(back))
}

fn observed(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => day.previous_day().unwrap_or(day),
        Weekday::Sunday => day.next_day().unwrap_or(day),
        _ => day,
    }
}

fn fixed(year: i32, month: Month, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, month, day)
        .ok()
        .map(observed)
}

/// The observed federal holidays of `year` (Juneteenth from 2021).
fn federal_holidays(year: i32) -> Vec<Date> {
    let mut days = vec![
        fixed(year, Month::January, 1),
        nth_weekday(year, Month::January, Weekday::Monday, 3),
        nth_weekday(year, Month::February, Weekday::Monday, 3),
        last_weekday(year, Month::May, Weekday::Monday),
        fixed(year, Month::July, 4),
        nth_weekday(year, Month::September, Weekday::Monday, 1),
        nth_weekday(year, Month::October, Weekday::Monday, 2),
        fixed(year, Month::November, 11),
        nth_weekday(year, Month::November, Weekday::Thursday, 4),
        fixed(year, Month::December, 25),
    ];
    if year >= 2021 {
        days.push(fixed(year, Month::June, 19));
    }
    // New Year's Day of next year observed on 31 December of this one.
    days.push(fixed(year + 1, Month::January, 1).filter(|d| d.year() == year));
    days.into_iter().flatten().collect()
}

/// Whether `day` is an observed US federal holiday.
pub fn is_us_federal_holiday(day: Date) -> bool {
    federal_holidays(day.year()).contains(&day)
}

fn is_business_day(day: Date) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !is_us_federal_holiday(day)
}

/// The day `n` US business days after `start` (the start day itself does not count).
pub fn add_business_days(start: Date, n: u32) -> Option<Date> {
    let mut day = start;
    let mut left = n;
    while left > 0 {
        day = day.next_day()?;
        if is_business_day(day) {
            left -= 1;
        }
    }
    Some(day)
}

/// The day `n` calendar days after `start`.
pub(crate) fn add_calendar_days(start: Date, n: u32) -> Option<Date> {
    start.checked_add(Duration::days(i64::from(n)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn federal_holidays_of_2026_are_observed_on_weekdays() {
        assert_eq!(
            federal_holidays(2026),
            [
                date!(2026 - 01 - 01),
                date!(2026 - 01 - 19),
                date!(2026 - 02 - 16),
                date!(2026 - 05 - 25),
                date!(2026 - 07 - 03), // 4 July is a Saturday
                date!(2026 - 09 - 07),
                date!(2026 - 10 - 12),
                date!(2026 - 11 - 11),
                date!(2026 - 11 - 26),
                date!(2026 - 12 - 25),
                date!(2026 - 06 - 19),
            ]
        );
    }

    #[test]
    fn new_year_on_a_saturday_is_observed_the_friday_before() {
        // 2022-01-01 was a Saturday.
        assert!(is_us_federal_holiday(date!(2021 - 12 - 31)));
        assert!(!is_us_federal_holiday(date!(2022 - 01 - 01)));
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        // Wednesday 2026-11-25, then Thanksgiving (26th) and the weekend.
        assert_eq!(
            add_business_days(date!(2026 - 11 - 25), 2),
            Some(date!(2026 - 11 - 30))
        );
        assert_eq!(
            add_business_days(date!(2026 - 12 - 31), 1),
            Some(date!(2027 - 01 - 04))
        );
        assert_eq!(
            add_business_days(date!(2026 - 03 - 02), 0),
            Some(date!(2026 - 03 - 02))
        );
    }

    #[test]
    fn calendar_days_cross_month_ends() {
        assert_eq!(
            add_calendar_days(date!(2026 - 01 - 20), 30),
            Some(date!(2026 - 02 - 19))
        );
    }
}

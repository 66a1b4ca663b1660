//! Checksums and structural rules for identifiers that can be validated.
//!
//! Every function takes the bare characters (digits, or for IBAN the compact form) and answers
//! yes or no. None of them panics on odd input: wrong lengths and non-digits are simply invalid.

/// Luhn (mod 10) check over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut sum = 0u32;
    for (idx, byte) in digits.bytes().rev().enumerate() {
        let mut digit = u32::from(byte - b'0');
        if idx % 2 == 1 {
            digit *= 2;
            if digit > 9 {
                digit -= 9;
            }
        }
        sum += digit;
    }
    sum.is_multiple_of(10)
}

/// Card brands recognised from the issuer identification number (IIN) prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    DinersClub,
    Jcb,
    UnionPay,
    Maestro,
}

impl CardBrand {
    /// Lower-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
            CardBrand::DinersClub => "diners_club",
            CardBrand::Jcb => "jcb",
            CardBrand::UnionPay => "unionpay",
            CardBrand::Maestro => "maestro",
        }
    }
}

/// The scope of an IP address written as text: `public`, `private`, `loopback`, `link_local`
/// or `reserved` (documentation, multicast, unspecified, shared CGNAT space counts as private).
pub fn ip_scope(text: &str) -> Option<&'static str> {
    use std::net::IpAddr;
    let ip: IpAddr = text.parse().ok()?;
    let scope = match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                "loopback"
            } else if v4.is_private() || (a == 100 && (64..=127).contains(&b)) {
                "private"
            } else if v4.is_link_local() {
                "link_local"
            } else if v4.is_documentation()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a >= 240
                || a == 0
            {
                "reserved"
            } else {
                "public"
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                "loopback"
            } else if first & 0xfe00 == 0xfc00 {
                "private"
            } else if first & 0xffc0 == 0xfe80 {
                "link_local"
            } else if v6.is_multicast()
                || v6.is_unspecified()
                || first == 0x2001 && v6.segments()[1] == 0x0db8
            {
                "reserved"
            } else {
                "public"
            }
        }
    };
    Some(scope)
}

fn prefix_num(digits: &str, len: usize) -> Option<u32> {
    digits.get(..len)?.parse().ok()
}

/// The brand whose IIN range and length rules the number satisfies, if any.
pub fn card_brand(digits: &str) -> Option<CardBrand> {
    let len = digits.len();
    if !(12..=19).contains(&len) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let p1 = prefix_num(digits, 1)?;
    let p2 = prefix_num(digits, 2)?;
    let p3 = prefix_num(digits, 3)?;
    let p4 = prefix_num(digits, 4)?;
    let p6 = prefix_num(digits, 6).unwrap_or(0);
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        return Some(CardBrand::Visa);
    }
    if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        return Some(CardBrand::Mastercard);
    }
    if (p2 == 34 || p2 == 37) && len == 15 {
        return Some(CardBrand::Amex);
    }
    if (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622_126..=622_925).contains(&p6))
        && (16..=19).contains(&len)
    {
        return Some(CardBrand::Discover);
    }
    if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len) {
        return Some(CardBrand::DinersClub);
    }
    if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        return Some(CardBrand::Jcb);
    }
    if p2 == 62 && (16..=19).contains(&len) {
        return Some(CardBrand::UnionPay);
    }
    if matches!(
        p4,
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    ) && (12..=19).contains(&len)
    {
        return Some(CardBrand::Maestro);
    }
    None
}

/// A payment card number: a known IIN range with a matching length, and a valid Luhn digit.
pub fn card_number(digits: &str) -> bool {
    card_brand(digits).is_some() && luhn(digits)
}

fn split_nine(digits: &str) -> Option<(u32, u32, u32)> {
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((
        digits.get(0..3)?.parse().ok()?,
        digits.get(3..5)?.parse().ok()?,
        digits.get(5..9)?.parse().ok()?,
    ))
}

/// Numbers the SSA or advertisers published that are known never to belong to a person.
const SSN_SAMPLES: &[&str] = &["078051120", "219099999", "123456789", "987654320"];

/// A Social Security number as the SSA issues them: area not 000, 666 or 900-999, group not
/// 00, serial not 0000, not all one digit, not a published sample.
pub fn ssn(digits: &str) -> bool {
    let Some((area, group, serial)) = split_nine(digits) else {
        return false;
    };
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    let first = digits.as_bytes()[0];
    if digits.bytes().all(|b| b == first) {
        return false;
    }
    !SSN_SAMPLES.contains(&digits)
}

/// An IRS individual taxpayer identification number: 9XX, group 50-65, 70-88, 90-92 or 94-99.
pub fn itin(digits: &str) -> bool {
    let Some((area, group, _serial)) = split_nine(digits) else {
        return false;
    };
    (900..=999).contains(&area) && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// An ABA routing transit number: valid Federal Reserve prefix and the 3-7-1 weighted checksum.
pub fn aba_routing(digits: &str) -> bool {
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(prefix) = prefix_num(digits, 2) else {
        return false;
    };
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) {
        return false;
    }
    if digits == "000000000" {
        return false;
    }
    const WEIGHTS: [u32; 9] = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    let sum: u32 = digits
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths per country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// The IBAN length registered for a country code.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, len)| *len)
}

/// An IBAN in compact form (no spaces, upper case): registered length and ISO 7064 mod 97-10.
pub fn iban(compact: &str) -> bool {
    let bytes = compact.as_bytes();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    if iban_length(country) != Some(bytes.len()) {
        return false;
    }
    if !bytes[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut remainder = 0u32;
    for &byte in bytes[4..].iter().chain(&bytes[..4]) {
        let value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => u32::from(byte - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// A North American Numbering Plan number (10 digits): area code and exchange start with 2-9,
/// neither is an N11 service code, and the area code's middle digit is not 9 (reserved for
/// expansion).
pub fn nanp_phone(digits: &str) -> bool {
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let b = digits.as_bytes();
    let n11 = |x: &[u8]| x[1] == b'1' && x[2] == b'1';
    if b[0] < b'2' || b[3] < b'2' || n11(&b[0..3]) || n11(&b[3..6]) {
        return false;
    }
    // Area codes with 9 in the middle digit are reserved for expansion.
    if b[1] == b'9' {
        return false;
    }
    true
}

/// A calendar date that can be a date of birth (years 1900-2029).
pub fn birth_date(year: u32, month: u32, day: u32) -> bool {
    if !(1900..=2029).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// Whether a driver's license or state ID number fits the formats of the issuing state (all 50
/// states and DC); `None` when `state` is not one of them. `value` is upper case with dashes and
/// spaces removed.
pub fn driver_license(state: &str, value: &str) -> Option<bool> {
    super::license_formats::fits_state(state, value)
}

/// The scheme of a stored password hash, when the value is one (a plain password gives `None`).
/// Salted and unsalted digests are told apart because the encryption safe harbor may turn on it.
pub fn password_hash_scheme(value: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("$2a$", "bcrypt"),
        ("$2b$", "bcrypt"),
        ("$2y$", "bcrypt"),
        ("$argon2id$", "argon2id"),
        ("$argon2i$", "argon2i"),
        ("$argon2d$", "argon2d"),
        ("$scrypt$", "scrypt"),
        ("$7$", "scrypt"),
        ("$6$", "sha512-crypt"),
        ("$5$", "sha256-crypt"),
        ("$1$", "md5-crypt"),
        ("pbkdf2_sha256$", "pbkdf2-sha256"),
        ("pbkdf2_sha1$", "pbkdf2-sha1"),
        ("{SSHA}", "salted sha1"),
        ("{SHA}", "sha1"),
    ];
    if let Some((_, scheme)) = PREFIXES
        .iter()
        .find(|(prefix, _)| value.starts_with(prefix))
    {
        return Some(scheme);
    }
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let unsalted = |len: usize| match len {
        32 => Some("md5"),
        40 => Some("sha1"),
        64 => Some("sha256"),
        128 => Some("sha512"),
        _ => None,
    };
    // Magento 2: `hash:salt:version` (0 md5, 1 sha256, 2/3 argon2id13).
    let parts: Vec<&str> = value.split(':').collect();
    if let [digest, salt, version] = parts.as_slice()
        && is_hex(digest)
        && !salt.is_empty()
    {
        return match version.split('_').next() {
            Some("0") => Some("salted md5"),
            Some("1") => Some("salted sha256"),
            Some("2") | Some("3") => Some("argon2id"),
            _ => None,
        };
    }
    if let [digest, salt] = parts.as_slice()
        && is_hex(digest)
        && unsalted(digest.len()).is_some()
        && !salt.is_empty()
        && salt.len() <= 64
    {
        return Some("salted digest");
    }
    if is_hex(value) {
        return unsalted(value.len());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_valid_and_rejects_altered_numbers() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("79927398713"));
        assert!(!luhn("4111111111111112"));
        assert!(!luhn("41111111111a1111"));
        assert!(!luhn(""));
    }

    #[test]
    fn card_numbers_need_a_known_iin_and_luhn() {
        assert!(card_number("4111111111111111"));
        assert!(card_number("5555555555554444"));
        assert!(card_number("2221000000000009"), "2-series Mastercard");
        assert!(card_number("378282246310005"), "Amex");
        assert!(card_number("6011111111111117"), "Discover");
        assert!(card_number("3530111333300000"), "JCB");
        assert!(card_number("6200000000000005"), "UnionPay");
        assert!(!card_number("4111111111111112"), "Luhn failure");
        assert!(!card_number("1234567812345670"), "no issuer starts with 1");
        assert!(!card_number("9999999999999995"), "unassigned IIN");
        assert!(!card_number("37828224631000"), "Amex has 15 digits");
        assert_eq!(card_brand("2720990000000007"), Some(CardBrand::Mastercard));
        assert_eq!(card_brand("2721000000000000"), None);
    }

    #[test]
    fn ssn_rules_follow_the_ssa_randomization_rules() {
        assert!(ssn("536225478"));
        assert!(!ssn("000123456"), "area 000");
        assert!(!ssn("666123456"), "area 666");
        assert!(!ssn("912345678"), "9xx area belongs to ITINs");
        assert!(!ssn("536005478"), "group 00");
        assert!(!ssn("536220000"), "serial 0000");
        assert!(!ssn("078051120"), "Woolworth sample");
        assert!(!ssn("111111111"), "one repeated digit");
        assert!(!ssn("53622547"), "eight digits");
        assert!(!ssn("53622547x"));
    }

    #[test]
    fn itin_groups_are_checked() {
        assert!(itin("912501234"));
        assert!(itin("999991234"));
        assert!(itin("900701234"));
        assert!(!itin("912931234"), "group 93 is not an ITIN group");
        assert!(!itin("912661234"), "group 66-69 is not an ITIN group");
        assert!(!itin("812501234"), "must start with 9");
    }

    #[test]
    fn aba_routing_uses_the_3_7_1_checksum() {
        assert!(aba_routing("021000021"));
        assert!(aba_routing("011000015"));
        assert!(aba_routing("121000358"));
        assert!(!aba_routing("021000022"), "checksum");
        assert!(!aba_routing("991000021"), "invalid Federal Reserve prefix");
        assert!(!aba_routing("000000000"));
    }

    #[test]
    fn iban_checks_country_length_and_mod_97() {
        assert!(iban("DE89370400440532013000"));
        assert!(iban("GB82WEST12345698765432"));
        assert!(iban("FR1420041010050500013M02606"));
        assert!(!iban("DE89370400440532013001"), "check digits");
        assert!(!iban("DE8937040044053201300"), "length for DE is 22");
        assert!(!iban("XX89370400440532013000"), "unknown country");
        assert!(!iban("de89370400440532013000"));
        assert!(!iban("D"));
    }

    #[test]
    fn nanp_rejects_bad_area_and_exchange_codes() {
        assert!(nanp_phone("4155552671"));
        assert!(nanp_phone("2125550100"));
        assert!(!nanp_phone("0155552671"), "area starts with 0");
        assert!(!nanp_phone("1155552671"), "area starts with 1");
        assert!(!nanp_phone("4151552671"), "exchange starts with 1");
        assert!(!nanp_phone("4155112671"), "N11 exchange");
        assert!(!nanp_phone("9115552671"), "N11 area");
        assert!(!nanp_phone("415555267"));
    }

    #[test]
    fn driver_licenses_follow_their_state_format() {
        assert_eq!(driver_license("CA", "A1234567"), Some(true));
        assert_eq!(driver_license("CA", "12345678"), Some(false));
        assert_eq!(driver_license("FL", "A123456789012"), Some(true));
        assert_eq!(driver_license("TX", "12345678"), Some(true));
        assert_eq!(driver_license("TX", "A1234567"), Some(false));
        assert_eq!(driver_license("WA", "WDLUZLQJY595"), Some(true));
        assert_eq!(driver_license("OH", "KR910351"), Some(true));
        assert_eq!(driver_license("VT", "12345678"), Some(true));
        assert_eq!(driver_license("PR", "12345678"), None);
    }

    #[test]
    fn password_hashes_are_recognised_by_scheme() {
        assert_eq!(
            password_hash_scheme("$2y$10$abcdefghijklmnopqrstuv"),
            Some("bcrypt")
        );
        assert_eq!(
            password_hash_scheme(&format!("{}:{}:1", "a".repeat(64), "s4lt")),
            Some("salted sha256")
        );
        assert_eq!(password_hash_scheme(&"0".repeat(32)), Some("md5"));
        assert_eq!(password_hash_scheme("hunter2"), None);
        assert_eq!(password_hash_scheme("deadbeef"), None);
    }

    #[test]
    fn birth_dates_must_exist() {
        assert!(birth_date(1984, 2, 29));
        assert!(!birth_date(1985, 2, 29));
        assert!(!birth_date(1985, 13, 1));
        assert!(!birth_date(1850, 1, 1));
        assert!(!birth_date(1990, 4, 31));
    }
}

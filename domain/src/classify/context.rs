//! Context: what a field name or a nearby keyword says the next value is.
//!
//! Both structured field names (`billing_telephone`, `cc_cid`, `default_address.address1`) and
//! prose keywords ("SSN", "routing number", "date of birth") reduce to one [`Hint`]. The scanner
//! uses the hint to accept values that cannot be recognised on their own (a bare 9-digit number is
//! an SSN only when something says so) and to reject look-alikes (a 10-digit order number).

use super::fast_hash::FastMap;
use super::keywords::keyword_table;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::cell::RefCell;
use std::sync::OnceLock;

/// What the surrounding context says a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hint {
    Email,
    Phone,
    Ssn,
    /// A tax id: an ITIN or an SSN, told apart by the value.
    TaxId,
    Card,
    Cvv,
    Routing,
    BankAccount,
    Iban,
    DriverLicense,
    Passport,
    Ip,
    Dob,
    Street,
    /// A unit line (`address2`): only kept when it looks like an apartment or suite.
    StreetUnit,
    Username,
    Password,
    GivenName,
    FamilyName,
    FullName,
    /// A field called `name`: a person only when the value looks like one.
    MaybeName,
    /// Greetings and sign-offs ("Dear", "Thanks,"): a capitalised given name may follow.
    Greeting,
    /// Order numbers, SKUs, tracking numbers, prices, timestamps, gift cards, masked numbers.
    NotPersonal,
}

impl Hint {
    /// Hints whose value is taken whole from a `key=value` or `"key": "value"` pair.
    pub fn takes_whole_value(self) -> bool {
        matches!(
            self,
            Hint::Username
                | Hint::Password
                | Hint::GivenName
                | Hint::FamilyName
                | Hint::FullName
                | Hint::MaybeName
                | Hint::Street
                | Hint::StreetUnit
        )
    }
}

/// Splits a field name into lower-case words: `billingTelephone` and `billing-telephone` both
/// become `["billing", "telephone"]`; digits stay attached (`address1`, `cc_last4`).
pub fn field_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    let mut prev_upper = false;
    let mut chars = key.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_alphanumeric() {
            // `billingTelephone` splits before `T`; `ABARouting` and `StateIDNo` split before the
            // last capital of an acronym that runs into a word.
            let acronym_end = prev_upper && chars.peek().is_some_and(|next| next.is_lowercase());
            if ch.is_uppercase() && (prev_lower || acronym_end) && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            prev_upper = ch.is_uppercase();
            current.extend(ch.to_lowercase());
        } else {
            prev_lower = false;
            prev_upper = false;
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

const PRODUCT_PARENTS: &[&str] = &[
    "line_items",
    "lineitems",
    "items",
    "products",
    "product",
    "variants",
    "variant",
    "shipping_lines",
    "tax_lines",
    "discount_codes",
    "discount_applications",
    "fulfillments",
    "options",
    "properties",
    "note_attributes",
    "refunds",
    "transactions",
    "collections",
    "images",
    "metafields",
    "tags",
];

/// The hint a structured field name gives. `parent` is the enclosing key, used to tell a
/// customer's `name` from a line item's `name`.
pub fn field_hint(key: &str, parent: Option<&str>) -> Option<Hint> {
    // Field names repeat across records, so answers are memoised per thread (bounded).
    type Cache = FastMap<Box<str>, FastMap<Box<str>, Option<Hint>>>;
    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(FastMap::default());
    }
    const MAX_CACHED_PARENTS: usize = 1024;
    const MAX_CACHED_KEYS: usize = 1024;
    if key.len() > 64 || parent.is_some_and(|p| p.len() > 64) {
        return compute_field_hint(key, parent);
    }
    let parent_key = parent.unwrap_or("");
    let cached = CACHE.with(|cache| {
        cache
            .borrow()
            .get(parent_key)
            .and_then(|keys| keys.get(key).copied())
    });
    if let Some(hint) = cached {
        return hint;
    }
    let hint = compute_field_hint(key, parent);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED_PARENTS {
            cache.clear();
        }
        let keys = cache.entry(parent_key.into()).or_default();
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(key.into(), hint);
    });
    hint
}

fn compute_field_hint(key: &str, parent: Option<&str>) -> Option<Hint> {
    let words = field_words(key);
    let has = |w: &str| words.iter().any(|x| x == w);
    let has_prefix = |p: &str| words.iter().any(|x| x.starts_with(p));
    let joined = words.join("_");
    let joined = joined.as_str();

    // `{"drivers_license": {"number": …}}`: a generic key takes its meaning from the parent.
    const GENERIC: &[&str] = &["number", "value", "no", "num", "nr", "data"];
    if let ([only], Some(parent)) = (words.as_slice(), parent)
        && GENERIC.contains(&only.as_str())
        && let Some(hint) = field_hint(parent, None).filter(|h| *h != Hint::NotPersonal)
    {
        return Some(hint);
    }
    // Masked, encrypted and summary values are not the identifier itself.
    if has("last4") || has("last") && (has("4") || has("four")) || has("masked") || has("mask") {
        return Some(Hint::NotPersonal);
    }
    if has("gift") || has("giftcard") || has("coupon") || has("voucher") {
        return Some(Hint::NotPersonal);
    }
    if has_prefix("password") || has("passwd") || has("pwd") || has("pass") || has("passcode") {
        return Some(Hint::Password);
    }
    if has("security") && (has("answer") || has("question")) {
        return Some(Hint::Password);
    }
    if has("enc") || has("encrypted") || has("hash") || has("token") || has("fingerprint") {
        return Some(Hint::NotPersonal);
    }
    if has_prefix("email") || has("mail") {
        return Some(Hint::Email);
    }
    if has("username")
        || has("login")
        || joined.contains("user_name")
        || joined == "user"
        || joined == "screen_name"
        || joined == "userid"
    {
        return Some(Hint::Username);
    }
    if has("ssn")
        || has("social")
        || has("ssno")
        || has("ssnum")
        || has("socsec")
        || (has("soc") && has("sec"))
        || (has("ss") && (has("no") || has("num") || has("number") || has("nbr")))
    {
        return Some(Hint::Ssn);
    }
    if let Some(hint) = licence_field_hint(&words) {
        return Some(hint);
    }
    if has("itin")
        || has("tin")
        || has("taxvat")
        || (has("tax") && (has("id") || has("number")))
        || has("taxpayer")
    {
        return Some(Hint::TaxId);
    }
    if has("cvv")
        || has("cvv2")
        || has("cvc")
        || has("cid")
        || has("csc")
        || (has("security") && has("code"))
        || (has("card") && (has("code") || has("verification")))
    {
        return Some(Hint::Cvv);
    }
    if has("routing") || has("aba") || has("rtn") || has("transit") {
        return Some(Hint::Routing);
    }
    if has("iban") {
        return Some(Hint::Iban);
    }
    if has("owner") || has("holder") || has("cardholder") || (has("account") && has("name")) {
        return Some(Hint::FullName);
    }
    if has("cc") || has("card") || has("pan") || has("creditcard") || has("cardnumber") {
        if has("type")
            || has("exp")
            || has("expiry")
            || has("month")
            || has("year")
            || has("brand")
            || has("status")
            || has("bin")
            || has("gift")
            || has("giftcard")
        {
            return Some(Hint::NotPersonal);
        }
        return Some(Hint::Card);
    }
    if has("account") || has("acct") || has("dda") || has("checking") || has("savings") {
        if has("id") || has("type") || has("status") {
            return Some(Hint::NotPersonal);
        }
        return Some(Hint::BankAccount);
    }
    if has("passport") {
        return Some(Hint::Passport);
    }
    if has_prefix("phone")
        || has_prefix("telephone")
        || has("tel")
        || has("mobile")
        || has("cell")
        || has("fax")
        || has("msisdn")
    {
        return Some(Hint::Phone);
    }
    if has("dob") || has_prefix("birth") || has("bday") || has("birthday") {
        return Some(Hint::Dob);
    }
    if has("ip")
        || has("ipv4")
        || has("ipv6")
        || joined.contains("remote_addr")
        || joined.contains("forwarded")
    {
        return Some(Hint::Ip);
    }
    if has("address2") || has("line2") || (has("address") && has("2")) {
        return Some(Hint::StreetUnit);
    }
    if has("address1")
        || has("street")
        || has("line1")
        || has("address")
        || has("addr")
        || has("street1")
    {
        if has("ip") || has("city") || has("country") || has("zip") {
            return Some(Hint::NotPersonal);
        }
        return Some(Hint::Street);
    }
    if has("firstname")
        || has("fname")
        || has("forename")
        || has("middlename")
        || ((has("first") || has("given") || has("middle")) && has("name"))
    {
        return Some(Hint::GivenName);
    }
    if has("lastname")
        || has("lname")
        || has("surname")
        || has("familyname")
        || ((has("last") || has("family")) && has("name"))
    {
        return Some(Hint::FamilyName);
    }
    if has("fullname") || has("recipient") || has("cardholder") || has("customer_name") {
        return Some(Hint::FullName);
    }
    if has("name") && words.len() == 1 {
        // A `name` inside an address, customer or contact object is a person's name.
        let person_parent = parent.is_some_and(|p| {
            let parent_words = field_words(p);
            parent_words.iter().any(|w| {
                [
                    "address",
                    "addresses",
                    "customer",
                    "contact",
                    "recipient",
                    "billing",
                    "shipping",
                    "owner",
                    "holder",
                    "user",
                    "person",
                    "employee",
                ]
                .contains(&w.as_str())
            })
        });
        if person_parent {
            return Some(Hint::FullName);
        }
    }
    if has("name") {
        let product_parent = parent.is_some_and(|p| {
            let parent_words = field_words(p).join("_");
            PRODUCT_PARENTS.contains(&parent_words.as_str())
        });
        let not_a_person = [
            "product", "company", "store", "shop", "bank", "item", "sku", "title", "file", "tag",
            "vendor", "city", "country", "province", "region", "gateway", "carrier", "domain",
            "host", "service", "method", "app", "source", "event", "topic", "variant",
        ];
        if product_parent || not_a_person.iter().any(|w| has(w)) {
            return Some(Hint::NotPersonal);
        }
        return Some(Hint::MaybeName);
    }
    const NOT_PERSONAL: &[&str] = &[
        "city",
        "region",
        "province",
        "state",
        "country",
        "company",
        "currency",
        "locale",
        "status",
        "vendor",
        "title",
        "tags",
        "handle",
        "gateway",
        "method",
        "type",
        "order",
        "sku",
        "tracking",
        "invoice",
        "price",
        "total",
        "subtotal",
        "amount",
        "qty",
        "quantity",
        "barcode",
        "upc",
        "gtin",
        "ean",
        "gift",
        "giftcard",
        "coupon",
        "discount",
        "id",
        "created",
        "updated",
        "timestamp",
        "time",
        "date",
        "at",
        "zip",
        "postcode",
        "postal",
        "number",
        "code",
        "version",
        "count",
        "weight",
        "grams",
        "sequence",
        "ref",
        "reference",
        "confirmation",
        "transaction",
        "txn",
        "batch",
        "serial",
        "ticket",
    ];
    if NOT_PERSONAL.iter().any(|w| has(w)) {
        return Some(Hint::NotPersonal);
    }
    None
}

/// Driver's licence and state ID fields (`dl_number`, `DriversLicenceNo`, `stateIdNumber`,
/// `id_card_number`), and the licence fields that hold something else (plates, keys, dates).
fn licence_field_hint(words: &[String]) -> Option<Hint> {
    let has = |w: &str| words.iter().any(|x| x == w);
    let numbered = has("no") || has("nr") || has("num") || has("number") || has("nbr");
    let licence = has("license")
        || has("licence")
        || has("lic")
        || has("dl")
        || has("dln")
        || has("cdl")
        || has("driverslicense")
        || has("driverlicense")
        || ((has("driver") || has("drivers")) && numbered);
    let state_id = (has("state") && has("id") && !has("region"))
        || has("stateid")
        || has("idcard")
        || (has("id") && has("card"))
        || (has("identification") && (has("card") || has("state")));
    if !licence && !state_id {
        return None;
    }
    const OTHER: &[&str] = &[
        "plate",
        "key",
        "business",
        "software",
        "class",
        "type",
        "exp",
        "expiry",
        "expiration",
        "expires",
        "issued",
        "issue",
        "date",
        "status",
        "restrictions",
        "endorsements",
        "count",
        "seats",
        "vehicle",
        "url",
        "file",
        "image",
        "photo",
        "scan",
    ];
    if OTHER.iter().any(|w| has(w)) {
        return Some(Hint::NotPersonal);
    }
    Some(Hint::DriverLicense)
}

/// The kind of identity document a record's `type`/`id_type`/`document_type` field names
/// (`"DL"`, `"drivers_license"`, `"state ID"`, `"passport"`, `"SSN"`, `"ITIN"`), if any.
pub fn document_type_hint(map: &serde_json::Map<String, serde_json::Value>) -> Option<Hint> {
    // This runs on every object of every record: only objects with a number-like key are read.
    if !map.keys().any(|k| maybe_document_number_key(k)) {
        return None;
    }
    map.iter().find_map(|(key, value)| {
        let value = value.as_str().filter(|v| v.len() <= 40)?;
        if !(ends_with_ignore_case(key, "type")
            || ends_with_ignore_case(key, "kind")
            || starts_with_ignore_case(key, "doc"))
        {
            return None;
        }
        let words = field_words(value);
        let has = |w: &str| words.iter().any(|x| x == w);
        let joined = words.concat();
        if has("passport") {
            Some(Hint::Passport)
        } else if has("ssn") || has("social") {
            Some(Hint::Ssn)
        } else if has("itin") || has("tin") || has("taxpayer") {
            Some(Hint::TaxId)
        } else if has("dl")
            || has("cdl")
            || joined.contains("license")
            || joined.contains("licence")
            || joined.contains("stateid")
            || joined.contains("idcard")
        {
            Some(Hint::DriverLicense)
        } else {
            None
        }
    })
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A cheap first test for [`is_document_number_key`].
fn maybe_document_number_key(key: &str) -> bool {
    ["number", "no", "num", "nr", "nbr", "value"]
        .iter()
        .any(|suffix| ends_with_ignore_case(key, suffix))
}

/// A key that holds a document's number: `number`, `id_number`, `document_no`, `value`, ….
pub fn is_document_number_key(key: &str) -> bool {
    if !maybe_document_number_key(key) {
        return false;
    }
    let words = field_words(key);
    !words.is_empty()
        && words.iter().all(|w| {
            matches!(
                w.as_str(),
                "number" | "no" | "num" | "nr" | "nbr" | "value" | "id" | "document" | "doc"
            )
        })
        && words
            .iter()
            .any(|w| w != "id" && w != "document" && w != "doc")
}

/// A keyword found in free text, with the hint it gives.
#[derive(Debug, Clone, Copy)]
pub struct KeywordHit {
    pub start: usize,
    pub end: usize,
    pub hint: Hint,
}

fn matcher() -> Option<&'static AhoCorasick> {
    static MATCHER: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(keyword_table().iter().map(|(word, _)| word))
                .ok()
        })
        .as_ref()
}

/// For each keyword, the longest other keyword it starts with ("taxpayer" for "taxpayer id",
/// "dl" for "dln"): when the longer one runs into a word ("taxpayer identification", `dlNum`),
/// the shorter one is tried in its place.
fn shorter_keywords() -> &'static [Option<usize>] {
    static SHORTER: OnceLock<Vec<Option<usize>>> = OnceLock::new();
    SHORTER.get_or_init(|| {
        let table = keyword_table();
        table
            .iter()
            .map(|(long, _)| {
                table
                    .iter()
                    .enumerate()
                    .filter(|(_, (short, _))| {
                        short.len() < long.len()
                            && long.as_bytes()[..short.len()].eq_ignore_ascii_case(short.as_bytes())
                    })
                    .max_by_key(|(_, (short, _))| short.len())
                    .map(|(idx, _)| idx)
            })
            .collect()
    })
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// Whether a keyword found at `start..end` stands as a word of its own.
fn stands_alone(bytes: &[u8], start: usize, end: usize) -> bool {
    // camelCase keys count as separate words: `driverLicense=`, `customerSsn`.
    // An acronym followed by a word splits before the word's capital: `ABARouting`, `StateIDNo`.
    let acronym_then_word = |at: usize| {
        bytes[at].is_ascii_uppercase()
            && bytes[at - 1].is_ascii_uppercase()
            && bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase)
    };
    let camel_start = start > 0
        && (bytes[start - 1].is_ascii_lowercase() && bytes[start].is_ascii_uppercase()
            || acronym_then_word(start));
    let camel_end = end < bytes.len()
        && (bytes[end].is_ascii_uppercase() && bytes[end - 1].is_ascii_lowercase()
            || acronym_then_word(end));
    if start > 0 && is_word_byte(bytes[start - 1]) && !camel_start {
        return false;
    }
    if end < bytes.len() && is_word_byte(bytes[end]) && !camel_end {
        // Allow a plural or a digit suffix on longer keywords ("phones", "address1" is listed).
        return bytes[end] == b's'
            && (end + 1 == bytes.len() || !is_word_byte(bytes[end + 1]))
            && end - start >= 4;
    }
    true
}

/// Keywords in `text` that stand as words (underscores and punctuation count as separators, so
/// `billing_telephone=` yields "telephone"), in order of position.
pub fn keyword_hits(text: &str) -> Vec<KeywordHit> {
    let Some(matcher) = matcher() else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    let shorter = shorter_keywords();
    let table = keyword_table();
    let mut hits = Vec::new();
    for found in matcher.find_iter(text) {
        let start = found.start();
        let mut pattern = Some(found.pattern().as_usize());
        while let Some(idx) = pattern {
            let end = start + table[idx].0.len();
            if stands_alone(bytes, start, end) {
                hits.push(KeywordHit {
                    start,
                    end,
                    hint: table[idx].1,
                });
                break;
            }
            pattern = shorter.get(idx).copied().flatten();
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_words_split_snake_and_camel_case() {
        assert_eq!(field_words("billingTelephone"), ["billing", "telephone"]);
        assert_eq!(field_words("cc_last_4"), ["cc", "last", "4"]);
        assert_eq!(field_words("ABARouting"), ["aba", "routing"]);
        assert_eq!(field_words("StateIDNo"), ["state", "id", "no"]);
        assert_eq!(field_words("SSNum"), ["ss", "num"]);
        assert_eq!(
            field_words("default_address.address1"),
            ["default", "address", "address1"]
        );
    }

    #[test]
    fn field_names_map_to_hints() {
        assert_eq!(field_hint("email", None), Some(Hint::Email));
        assert_eq!(field_hint("billing_telephone", None), Some(Hint::Phone));
        assert_eq!(field_hint("cc_last_4", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("cc_last4", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("cc_number", None), Some(Hint::Card));
        assert_eq!(field_hint("cc_cid", None), Some(Hint::Cvv));
        assert_eq!(field_hint("cc_owner", None), Some(Hint::FullName));
        assert_eq!(field_hint("cc_exp_month", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("cc_number_enc", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("dob", None), Some(Hint::Dob));
        assert_eq!(field_hint("street", None), Some(Hint::Street));
        assert_eq!(
            field_hint("address1", Some("default_address")),
            Some(Hint::Street)
        );
        assert_eq!(field_hint("address2", None), Some(Hint::StreetUnit));
        assert_eq!(field_hint("firstName", None), Some(Hint::GivenName));
        assert_eq!(field_hint("lastname", None), Some(Hint::FamilyName));
        assert_eq!(
            field_hint("name", Some("line_items")),
            Some(Hint::NotPersonal)
        );
        assert_eq!(field_hint("name", Some("customer")), Some(Hint::FullName));
        assert_eq!(
            field_hint("name", Some("billing_address")),
            Some(Hint::FullName)
        );
        assert_eq!(field_hint("name", None), Some(Hint::MaybeName));
        assert_eq!(
            field_hint("number", Some("drivers_license")),
            Some(Hint::DriverLicense)
        );
        assert_eq!(field_hint("city", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("gift_card_code", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("handle", None), Some(Hint::NotPersonal));
        assert_eq!(
            field_hint("echeck_routing_number", None),
            Some(Hint::Routing)
        );
        assert_eq!(
            field_hint("echeck_account_name", None),
            Some(Hint::FullName)
        );
        assert_eq!(
            field_hint("echeck_bank_account", None),
            Some(Hint::BankAccount)
        );
        assert_eq!(field_hint("password_hash", None), Some(Hint::Password));
        assert_eq!(field_hint("browser_ip", None), Some(Hint::Ip));
        assert_eq!(field_hint("taxvat", None), Some(Hint::TaxId));
        assert_eq!(field_hint("order_number", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("tracking_number", None), Some(Hint::NotPersonal));
        assert_eq!(field_hint("note", None), None);
    }

    #[test]
    fn a_longer_keyword_that_runs_into_a_word_gives_way_to_a_shorter_one() {
        let hits = keyword_hits("taxpayer identification number; state identity");
        let hints: Vec<Hint> = hits.iter().map(|h| h.hint).collect();
        assert_eq!(hints, [Hint::TaxId]);
        let hits = keyword_hits("customerSsn=1 driverLicense=2 ABARouting=3");
        let hints: Vec<Hint> = hits.iter().map(|h| h.hint).collect();
        assert_eq!(
            hints,
            [
                Hint::FullName,
                Hint::Ssn,
                Hint::DriverLicense,
                Hint::Routing,
                Hint::Routing
            ]
        );
    }

    #[test]
    fn keywords_are_found_as_words_only() {
        let hits = keyword_hits("billing_telephone=1 hotel passport SSN:");
        let hints: Vec<Hint> = hits.iter().map(|h| h.hint).collect();
        assert_eq!(hints, [Hint::Phone, Hint::Passport, Hint::Ssn]);
    }
}

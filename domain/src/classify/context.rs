//! Context: what a field name or a nearby keyword says the next value is.
//!
//! Both structured field names (`billing_telephone`, `cc_cid`, `default_address.address1`) and
//! prose keywords ("SSN", "routing number", "date of birth") reduce to one [`Hint`]. The scanner
//! uses the hint to accept values that cannot be recognised on their own (a bare 9-digit number is
//! an SSN only when something says so) and to reject look-alikes (a 10-digit order number).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::cell::RefCell;
use std::collections::HashMap;
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
    for ch in key.chars() {
        if ch.is_alphanumeric() {
            if ch.is_uppercase() && prev_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            current.extend(ch.to_lowercase());
        } else {
            prev_lower = false;
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
    type Cache = HashMap<Box<str>, HashMap<Box<str>, Option<Hint>>>;
    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
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

/// A keyword found in free text, with the hint it gives.
#[derive(Debug, Clone, Copy)]
pub struct KeywordHit {
    pub start: usize,
    pub end: usize,
    pub hint: Hint,
}

const KEYWORDS: &[(&str, Hint)] = &[
    ("email", Hint::Email),
    ("e-mail", Hint::Email),
    ("phone", Hint::Phone),
    ("telephone", Hint::Phone),
    ("tel", Hint::Phone),
    ("mobile", Hint::Phone),
    ("cell", Hint::Phone),
    ("call", Hint::Phone),
    ("fax", Hint::Phone),
    ("text me", Hint::Phone),
    ("reach me", Hint::Phone),
    ("ssn", Hint::Ssn),
    ("social security", Hint::Ssn),
    ("social", Hint::Ssn),
    ("ss#", Hint::Ssn),
    ("ss #", Hint::Ssn),
    ("ss no", Hint::Ssn),
    ("ss no.", Hint::Ssn),
    ("ss num", Hint::Ssn),
    ("ssno", Hint::Ssn),
    ("s.s.n", Hint::Ssn),
    ("s.s.n.", Hint::Ssn),
    ("soc sec", Hint::Ssn),
    ("soc. sec.", Hint::Ssn),
    ("social sec", Hint::Ssn),
    ("social sec.", Hint::Ssn),
    ("seguro social", Hint::Ssn),
    ("securite sociale", Hint::Ssn),
    ("sécurité sociale", Hint::Ssn),
    ("itin", Hint::TaxId),
    ("taxpayer", Hint::TaxId),
    ("taxpayer id", Hint::TaxId),
    ("tax id number", Hint::TaxId),
    ("tax id", Hint::TaxId),
    ("tax_id", Hint::TaxId),
    ("taxvat", Hint::TaxId),
    ("tin", Hint::TaxId),
    ("card", Hint::Card),
    ("credit card", Hint::Card),
    ("debit card", Hint::Card),
    ("card number", Hint::Card),
    ("cc", Hint::Card),
    ("cc_number", Hint::Card),
    ("pan", Hint::Card),
    ("visa", Hint::Card),
    ("mastercard", Hint::Card),
    ("amex", Hint::Card),
    ("discover", Hint::Card),
    ("cvv", Hint::Cvv),
    ("cvv2", Hint::Cvv),
    ("cvc", Hint::Cvv),
    ("cid", Hint::Cvv),
    ("cc_cid", Hint::Cvv),
    ("csc", Hint::Cvv),
    ("security code", Hint::Cvv),
    ("card code", Hint::Cvv),
    ("routing", Hint::Routing),
    ("aba", Hint::Routing),
    ("rtn", Hint::Routing),
    ("transit", Hint::Routing),
    ("account", Hint::BankAccount),
    ("acct", Hint::BankAccount),
    ("a/c", Hint::BankAccount),
    ("checking", Hint::BankAccount),
    ("savings", Hint::BankAccount),
    ("iban", Hint::Iban),
    ("driver's license", Hint::DriverLicense),
    ("drivers license", Hint::DriverLicense),
    ("driver license", Hint::DriverLicense),
    ("driver's licence", Hint::DriverLicense),
    ("drivers licence", Hint::DriverLicense),
    ("driver licence", Hint::DriverLicense),
    ("driving licence", Hint::DriverLicense),
    ("driving license", Hint::DriverLicense),
    ("driver's lic", Hint::DriverLicense),
    ("drivers lic", Hint::DriverLicense),
    ("driver lic", Hint::DriverLicense),
    ("drv lic", Hint::DriverLicense),
    ("license", Hint::DriverLicense),
    ("licence", Hint::DriverLicense),
    ("lic", Hint::DriverLicense),
    ("lic.", Hint::DriverLicense),
    ("dl", Hint::DriverLicense),
    ("d/l", Hint::DriverLicense),
    ("d.l.", Hint::DriverLicense),
    ("dln", Hint::DriverLicense),
    ("cdl", Hint::DriverLicense),
    ("state id", Hint::DriverLicense),
    ("stateid", Hint::DriverLicense),
    ("state_id", Hint::DriverLicense),
    ("idcard", Hint::DriverLicense),
    ("id_card", Hint::DriverLicense),
    ("state identification", Hint::DriverLicense),
    ("id card", Hint::DriverLicense),
    ("identification card", Hint::DriverLicense),
    ("operator license", Hint::DriverLicense),
    ("operator's license", Hint::DriverLicense),
    ("operators license", Hint::DriverLicense),
    ("learner's permit", Hint::DriverLicense),
    ("learners permit", Hint::DriverLicense),
    ("instruction permit", Hint::DriverLicense),
    ("licencia", Hint::DriverLicense),
    ("licencia de conducir", Hint::DriverLicense),
    ("permis de conduire", Hint::DriverLicense),
    ("führerschein", Hint::DriverLicense),
    ("license plate", Hint::NotPersonal),
    ("licence plate", Hint::NotPersonal),
    ("plate", Hint::NotPersonal),
    ("license key", Hint::NotPersonal),
    ("licence key", Hint::NotPersonal),
    ("product key", Hint::NotPersonal),
    ("serial", Hint::NotPersonal),
    ("business license", Hint::NotPersonal),
    ("software license", Hint::NotPersonal),
    ("driver id", Hint::NotPersonal),
    ("passport", Hint::Passport),
    ("pasaporte", Hint::Passport),
    ("passeport", Hint::Passport),
    ("ip", Hint::Ip),
    ("dob", Hint::Dob),
    ("d.o.b", Hint::Dob),
    ("birth", Hint::Dob),
    ("birthday", Hint::Dob),
    ("birthdate", Hint::Dob),
    ("date of birth", Hint::Dob),
    ("born", Hint::Dob),
    ("bday", Hint::Dob),
    ("username", Hint::Username),
    ("user name", Hint::Username),
    ("user_name", Hint::Username),
    ("user", Hint::Username),
    ("login", Hint::Username),
    ("password", Hint::Password),
    ("passwd", Hint::Password),
    ("pwd", Hint::Password),
    ("passcode", Hint::Password),
    ("pass", Hint::Password),
    ("pw", Hint::Password),
    ("first_name", Hint::GivenName),
    ("firstname", Hint::GivenName),
    ("first name", Hint::GivenName),
    ("last_name", Hint::FamilyName),
    ("lastname", Hint::FamilyName),
    ("last name", Hint::FamilyName),
    ("surname", Hint::FamilyName),
    ("full_name", Hint::FullName),
    ("fullname", Hint::FullName),
    ("full name", Hint::FullName),
    ("customer_name", Hint::FullName),
    ("cardholder", Hint::FullName),
    ("name", Hint::MaybeName),
    ("street", Hint::Street),
    ("address1", Hint::Street),
    ("address", Hint::Street),
    ("address2", Hint::StreetUnit),
    ("customer", Hint::FullName),
    ("my name is", Hint::FullName),
    ("i'm", Hint::FullName),
    ("i am", Hint::FullName),
    ("this is", Hint::FullName),
    ("signed", Hint::FullName),
    ("best", Hint::Greeting),
    ("cheers", Hint::Greeting),
    ("dear", Hint::Greeting),
    ("hi", Hint::Greeting),
    ("hello", Hint::Greeting),
    ("thanks", Hint::Greeting),
    ("regards", Hint::Greeting),
    ("sincerely", Hint::Greeting),
    ("order", Hint::NotPersonal),
    ("order_id", Hint::NotPersonal),
    ("order #", Hint::NotPersonal),
    ("sku", Hint::NotPersonal),
    ("tracking", Hint::NotPersonal),
    ("invoice", Hint::NotPersonal),
    ("gift card", Hint::NotPersonal),
    ("giftcard", Hint::NotPersonal),
    ("gift_card", Hint::NotPersonal),
    ("barcode", Hint::NotPersonal),
    ("upc", Hint::NotPersonal),
    ("confirmation", Hint::NotPersonal),
    ("reference", Hint::NotPersonal),
    ("ref", Hint::NotPersonal),
    ("ticket", Hint::NotPersonal),
    ("transaction", Hint::NotPersonal),
    ("txn", Hint::NotPersonal),
    ("trace", Hint::NotPersonal),
    ("shipment", Hint::NotPersonal),
    ("ups", Hint::NotPersonal),
    ("fedex", Hint::NotPersonal),
    ("usps", Hint::NotPersonal),
    ("total", Hint::NotPersonal),
    ("price", Hint::NotPersonal),
    ("amount", Hint::NotPersonal),
    ("qty", Hint::NotPersonal),
    ("last4", Hint::NotPersonal),
    ("last_4", Hint::NotPersonal),
    ("ending in", Hint::NotPersonal),
    ("customer_id", Hint::NotPersonal),
    ("product_id", Hint::NotPersonal),
    ("variant_id", Hint::NotPersonal),
    ("request_id", Hint::NotPersonal),
    ("trace_id", Hint::NotPersonal),
    ("id", Hint::NotPersonal),
    ("created", Hint::NotPersonal),
    ("updated", Hint::NotPersonal),
    ("shipped", Hint::NotPersonal),
    ("delivered", Hint::NotPersonal),
    ("timestamp", Hint::NotPersonal),
    ("expires", Hint::NotPersonal),
    ("exp", Hint::NotPersonal),
    ("expiry", Hint::NotPersonal),
    ("placed", Hint::NotPersonal),
];

fn matcher() -> Option<&'static AhoCorasick> {
    static MATCHER: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(KEYWORDS.iter().map(|(word, _)| word))
                .ok()
        })
        .as_ref()
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// Keywords in `text` that stand as words (underscores and punctuation count as separators, so
/// `billing_telephone=` yields "telephone"), in order of position.
pub fn keyword_hits(text: &str) -> Vec<KeywordHit> {
    let Some(matcher) = matcher() else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    let mut hits = Vec::new();
    for found in matcher.find_iter(text) {
        let (start, end) = (found.start(), found.end());
        // camelCase keys count as separate words: `driverLicense=`, `customerSsn`.
        let camel_start =
            start > 0 && bytes[start - 1].is_ascii_lowercase() && bytes[start].is_ascii_uppercase();
        let camel_end = end < bytes.len()
            && bytes[end].is_ascii_uppercase()
            && bytes[end - 1].is_ascii_lowercase();
        if start > 0 && is_word_byte(bytes[start - 1]) && !camel_start {
            continue;
        }
        if end < bytes.len() && is_word_byte(bytes[end]) && !camel_end {
            // Allow a plural or a digit suffix on longer keywords ("phones", "address1" is listed).
            let plural = bytes[end] == b's'
                && (end + 1 == bytes.len() || !is_word_byte(bytes[end + 1]))
                && end - start >= 4;
            if !plural {
                continue;
            }
        }
        let (_, hint) = KEYWORDS[found.pattern().as_usize()];
        hits.push(KeywordHit { start, end, hint });
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
    fn keywords_are_found_as_words_only() {
        let hits = keyword_hits("billing_telephone=1 hotel passport SSN:");
        let hints: Vec<Hint> = hits.iter().map(|h| h.hint).collect();
        assert_eq!(hints, [Hint::Phone, Hint::Passport, Hint::Ssn]);
    }
}

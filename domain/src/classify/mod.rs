//! PII classification: finds personal data in free text and in structured records (Shopify and
//! Magento payloads, `key=value` logs), maps it to CCPA categories and decides whether the Cal.
//! Civ. Code § 1798.82(h) breach-notice combination is present.
//!
//! Pure functions: no file, network or clock access, no model download. Names and streets come
//! from dictionaries compiled into the crate (`domain/data/`), everything else from patterns,
//! checksums and context (field names and nearby keywords). Odd input never panics; it yields
//! fewer findings and, where useful, a [`Diagnostic`]. The only I/O-shaped entry point is
//! [`run_jsonl`], which reads and writes through the caller's `BufRead`/`Write`.
//!
//! Offsets are Unicode code point offsets, end exclusive. For records they are offsets within
//! the string value found at the entity's `field` (a JSON pointer).

mod ccpa;
mod context;
mod dict;
mod fast_hash;
mod jsonl;
mod keywords;
mod license_formats;
mod scan;
pub mod validate;

pub use ccpa::{CcpaCategory, NoticeTrigger};
pub use jsonl::{ClassifyIoError, MAX_LINE_BYTES, Progress, RunStats, run_jsonl};

use scan::NamePart;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of personal data the classifier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    Person,
    Email,
    Phone,
    UsSsn,
    UsItin,
    CreditCard,
    CardCvv,
    AbaRouting,
    UsBankAccount,
    Iban,
    UsDriverLicense,
    UsPassport,
    IpAddress,
    DateOfBirth,
    StreetAddress,
    Username,
    Password,
}

impl EntityType {
    /// Every type, in a stable order.
    pub const ALL: [EntityType; 17] = [
        EntityType::Person,
        EntityType::Email,
        EntityType::Phone,
        EntityType::UsSsn,
        EntityType::UsItin,
        EntityType::CreditCard,
        EntityType::CardCvv,
        EntityType::AbaRouting,
        EntityType::UsBankAccount,
        EntityType::Iban,
        EntityType::UsDriverLicense,
        EntityType::UsPassport,
        EntityType::IpAddress,
        EntityType::DateOfBirth,
        EntityType::StreetAddress,
        EntityType::Username,
        EntityType::Password,
    ];

    /// The wire name, e.g. `US_SSN`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Email => "EMAIL",
            EntityType::Phone => "PHONE",
            EntityType::UsSsn => "US_SSN",
            EntityType::UsItin => "US_ITIN",
            EntityType::CreditCard => "CREDIT_CARD",
            EntityType::CardCvv => "CARD_CVV",
            EntityType::AbaRouting => "ABA_ROUTING",
            EntityType::UsBankAccount => "US_BANK_ACCOUNT",
            EntityType::Iban => "IBAN",
            EntityType::UsDriverLicense => "US_DRIVER_LICENSE",
            EntityType::UsPassport => "US_PASSPORT",
            EntityType::IpAddress => "IP_ADDRESS",
            EntityType::DateOfBirth => "DATE_OF_BIRTH",
            EntityType::StreetAddress => "STREET_ADDRESS",
            EntityType::Username => "USERNAME",
            EntityType::Password => "PASSWORD",
        }
    }

    /// Plain words for notices and reasons ("Social Security number").
    pub fn describe(self) -> &'static str {
        match self {
            EntityType::Person => "name",
            EntityType::Email => "email address",
            EntityType::Phone => "phone number",
            EntityType::UsSsn => "Social Security number",
            EntityType::UsItin => "taxpayer identification number",
            EntityType::CreditCard => "payment card number",
            EntityType::CardCvv => "card security code",
            EntityType::AbaRouting => "bank routing number",
            EntityType::UsBankAccount => "bank account number",
            EntityType::Iban => "IBAN",
            EntityType::UsDriverLicense => "driver's license number",
            EntityType::UsPassport => "passport number",
            EntityType::IpAddress => "IP address",
            EntityType::DateOfBirth => "date of birth",
            EntityType::StreetAddress => "street address",
            EntityType::Username => "user name",
            EntityType::Password => "password",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// Code point offset of the first character.
    pub start: usize,
    /// Code point offset after the last character.
    pub end: usize,
    /// Confidence in [0, 1]; only findings at or above 0.5 are reported.
    #[serde(serialize_with = "round_score")]
    pub score: f32,
    /// JSON pointer to the string the offsets refer to (records only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a password stored as a hash: its scheme (`bcrypt`, `salted sha256`, `md5`, …).
    /// Whether a hashed password still counts under § 1798.82(h)(2) is a legal call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<&'static str>,
    /// For a card number: the brand its IIN belongs to (`visa`, `mastercard`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_brand: Option<&'static str>,
    /// For an IP address: `public`, `private` (RFC 1918, unique local), `loopback`,
    /// `link_local` or `reserved`. Internal addresses rarely identify a consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_scope: Option<&'static str>,
    #[serde(skip)]
    name_part: NamePart,
}

fn round_score<S: serde::Serializer>(score: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((f64::from(*score) * 100.0).round() / 100.0)
}

impl Entity {
    /// True when this is a name holding both a first name (or initial) and a last name.
    pub fn is_full_name(&self) -> bool {
        self.name_part == NamePart::Full
    }
}

/// Something the caller may want to know about the input; never contains the input's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable snake_case code.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The result for one text or record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub entities: Vec<Entity>,
    pub categories: Vec<CcpaCategory>,
    pub notice_trigger: NoticeTrigger,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
}

/// Texts longer than this are classified up to this many bytes, with a diagnostic.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// Records nested deeper than this are not descended into further, with a diagnostic.
pub const MAX_RECORD_DEPTH: usize = 64;

/// Converts byte offsets of `text` into code point offsets in one pass (findings are sorted
/// and do not overlap, so their offsets only grow).
fn to_entities(text: &str, found: Vec<scan::Found>, field: Option<&str>) -> Vec<Entity> {
    let ascii = text.is_ascii();
    let mut cursor_byte = 0usize;
    let mut cursor_char = 0usize;
    let mut char_offset = |byte: usize| {
        if ascii {
            return byte;
        }
        if byte < cursor_byte {
            // Not expected; fall back to counting from the start.
            return text.get(..byte).map_or(0, |prefix| prefix.chars().count());
        }
        cursor_char += text
            .get(cursor_byte..byte)
            .map_or(0, |gap| gap.chars().count());
        cursor_byte = byte;
        cursor_char
    };
    found
        .into_iter()
        .map(|f| {
            let start = char_offset(f.start);
            let end = char_offset(f.end);
            let value = text.get(f.start..f.end).unwrap_or("");
            let card_brand = (f.entity_type == EntityType::CreditCard)
                .then(|| {
                    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                    validate::card_brand(&digits).map(validate::CardBrand::as_str)
                })
                .flatten();
            let ip_scope = (f.entity_type == EntityType::IpAddress)
                .then(|| validate::ip_scope(value))
                .flatten();
            Entity {
                entity_type: f.entity_type,
                start,
                end,
                score: f.score,
                field: field.map(str::to_owned),
                hash_algorithm: f.hash_algorithm,
                card_brand,
                ip_scope,
                name_part: f.name_part,
            }
        })
        .collect()
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

fn finish(entities: Vec<Entity>, diagnostics: Vec<Diagnostic>) -> Classification {
    let categories = ccpa::categories(&entities);
    let notice_trigger = ccpa::notice_trigger(&entities);
    Classification {
        entities,
        categories,
        notice_trigger,
        diagnostics,
    }
}

/// Classifies free text (a log line, a support message, a note).
pub fn classify_text(text: &str) -> Classification {
    let mut diagnostics = Vec::new();
    let scanned = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
    if scanned.len() < text.len() {
        diagnostics.push(Diagnostic {
            code: "text_truncated",
            message: format!("only the first {MAX_TEXT_BYTES} bytes were classified"),
            field: None,
        });
    }
    let found = scan::scan(scanned, None);
    finish(to_entities(scanned, found, None), diagnostics)
}

/// Appends one JSON pointer token (RFC 6901 escaping) to `pointer`.
fn push_pointer_token(pointer: &mut String, key: &str) {
    pointer.push('/');
    if key.contains(['~', '/']) {
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(key);
    }
}

/// Walks a record depth-first with one pointer buffer; a pointer string is only allocated for
/// fields that hold a finding.
struct RecordWalk {
    pointer: String,
    /// The hint a sibling `type` field gives the value being visited.
    document: Option<context::Hint>,
    entities: Vec<Entity>,
    diagnostics: Vec<Diagnostic>,
}

impl RecordWalk {
    fn too_deep(&mut self, depth: usize) -> bool {
        if depth < MAX_RECORD_DEPTH {
            return false;
        }
        self.diagnostics.push(Diagnostic {
            code: "record_too_deep",
            message: format!(
                "fields nested deeper than {MAX_RECORD_DEPTH} levels were not classified"
            ),
            field: Some(self.pointer.clone()),
        });
        true
    }

    fn visit(&mut self, key: Option<&str>, parent: Option<&str>, value: &Value, depth: usize) {
        match value {
            Value::Object(map) => {
                if self.too_deep(depth) {
                    return;
                }
                // `{"id_type": "DL", "id_number": "…"}`: the type names the number beside it.
                let document = context::document_type_hint(map);
                for (child_key, child) in map {
                    let len = self.pointer.len();
                    push_pointer_token(&mut self.pointer, child_key);
                    self.document = document.filter(|_| context::is_document_number_key(child_key));
                    self.visit(Some(child_key.as_str()), key, child, depth + 1);
                    self.document = None;
                    self.pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                if self.too_deep(depth) {
                    return;
                }
                for (idx, child) in items.iter().enumerate() {
                    let len = self.pointer.len();
                    self.pointer.push('/');
                    self.pointer.push_str(&idx.to_string());
                    // Array elements keep the array's key: `"phones": ["…"]` are phones.
                    self.visit(key, parent, child, depth + 1);
                    self.pointer.truncate(len);
                }
            }
            Value::String(text) => {
                classify_field(
                    text,
                    key,
                    parent,
                    self.document,
                    &self.pointer,
                    &mut self.entities,
                    &mut self.diagnostics,
                );
            }
            Value::Number(number) => {
                let text = number.to_string();
                classify_field(
                    &text,
                    key,
                    parent,
                    self.document,
                    &self.pointer,
                    &mut self.entities,
                    &mut self.diagnostics,
                );
            }
            Value::Bool(_) | Value::Null => {}
        }
    }
}

/// Classifies a structured record: field names and values are read together, nested objects and
/// arrays are walked, and each entity names the field it was found in.
pub fn classify_record(record: &Value) -> Classification {
    let mut walk = RecordWalk {
        pointer: String::new(),
        document: None,
        entities: Vec::new(),
        diagnostics: Vec::new(),
    };
    walk.visit(None, None, record, 0);
    finish(walk.entities, walk.diagnostics)
}

fn classify_field(
    text: &str,
    key: Option<&str>,
    parent: Option<&str>,
    document: Option<context::Hint>,
    pointer: &str,
    entities: &mut Vec<Entity>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if text.is_empty() {
        return;
    }
    let scanned = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
    if scanned.len() < text.len() {
        diagnostics.push(Diagnostic {
            code: "text_truncated",
            message: format!("only the first {MAX_TEXT_BYTES} bytes of the field were classified"),
            field: Some(pointer.to_owned()),
        });
    }
    let hint = document.or_else(|| key.and_then(|k| context::field_hint(k, parent)));
    let found = scan::scan(scanned, hint);
    if found.is_empty()
        && let Some(expected) = hint.and_then(validated_type)
        && scanned.bytes().filter(u8::is_ascii_digit).count() >= 9
    {
        diagnostics.push(Diagnostic {
            code: "field_value_invalid",
            message: format!(
                "the field name suggests a {} but the value failed validation",
                expected.describe()
            ),
            field: Some(pointer.to_owned()),
        });
    }
    entities.extend(to_entities(scanned, found, Some(pointer)));
}

/// Types whose values carry a checksum or structural rule worth reporting when they fail.
fn validated_type(hint: context::Hint) -> Option<EntityType> {
    use context::Hint;
    match hint {
        Hint::Card => Some(EntityType::CreditCard),
        Hint::Ssn => Some(EntityType::UsSsn),
        Hint::Routing => Some(EntityType::AbaRouting),
        Hint::Iban => Some(EntityType::Iban),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn found(c: &Classification) -> Vec<(EntityType, Option<&str>)> {
        c.entities
            .iter()
            .map(|e| (e.entity_type, e.field.as_deref()))
            .collect()
    }

    #[test]
    fn many_findings_in_long_non_ascii_text_keep_exact_offsets() {
        let unit = "é ip 203.0.113.9 — ";
        let text = unit.repeat(2000);
        let c = classify_text(&text);
        assert_eq!(c.entities.len(), 2000);
        let chars: Vec<char> = text.chars().collect();
        for e in &c.entities {
            let span: String = chars[e.start..e.end].iter().collect();
            assert_eq!(span, "203.0.113.9");
        }
    }

    #[test]
    fn cards_and_ips_carry_their_brand_and_scope() {
        let c = classify_text("card 5555 5555 5555 4444 from 10.1.2.3 and 81.2.69.160");
        let details: Vec<(EntityType, Option<&str>, Option<&str>)> = c
            .entities
            .iter()
            .map(|e| (e.entity_type, e.card_brand, e.ip_scope))
            .collect();
        assert_eq!(
            details,
            [
                (EntityType::CreditCard, Some("mastercard"), None),
                (EntityType::IpAddress, None, Some("private")),
                (EntityType::IpAddress, None, Some("public")),
            ]
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "Zoë’s email: zoë@example.com → jo@example.com";
        let c = classify_text(text);
        let chars: Vec<char> = text.chars().collect();
        let spans: Vec<String> = c
            .entities
            .iter()
            .map(|e| chars[e.start..e.end].iter().collect())
            .collect();
        assert!(spans.contains(&"jo@example.com".to_owned()), "{spans:?}");
    }

    #[test]
    fn a_shopify_customer_webhook_is_classified_by_field() {
        let record = json!({
            "id": 706405506930370084u64,
            "email": "bob.norman@mail.example.com",
            "first_name": "Bob",
            "last_name": "Norman",
            "phone": "+16136120707",
            "orders_count": 3,
            "default_address": {
                "address1": "Chestnut Street 92",
                "city": "Louisville",
                "zip": "40202",
                "phone": "555-625-1199",
                "name": "Bob Norman"
            },
            "created_at": "2024-01-01T12:00:00-05:00"
        });
        let c = classify_record(&record);
        let got = found(&c);
        assert!(got.contains(&(EntityType::Email, Some("/email"))));
        assert!(got.contains(&(EntityType::Person, Some("/first_name"))));
        assert!(got.contains(&(EntityType::Person, Some("/last_name"))));
        assert!(got.contains(&(EntityType::Phone, Some("/phone"))));
        assert!(got.contains(&(EntityType::StreetAddress, Some("/default_address/address1"))));
        assert!(got.contains(&(EntityType::Person, Some("/default_address/name"))));
        assert!(
            !got.iter()
                .any(|(_, f)| *f == Some("/id") || *f == Some("/default_address/zip"))
        );
        assert!(
            !c.notice_trigger.met,
            "a name and contact details alone do not trigger notice"
        );
    }

    #[test]
    fn a_magento_payment_row_with_card_and_cvv_triggers_notice() {
        let record = json!({
            "entity_id": "1202",
            "cc_owner": "Veronica Costello",
            "cc_number": "5555 5555 5555 4444",
            "cc_cid": "737",
            "cc_last_4": "4444",
            "cc_exp_month": "12",
            "echeck_routing_number": "021000021",
            "echeck_bank_account": "000123456789"
        });
        let c = classify_record(&record);
        let got = found(&c);
        assert!(got.contains(&(EntityType::Person, Some("/cc_owner"))));
        assert!(got.contains(&(EntityType::CreditCard, Some("/cc_number"))));
        assert!(got.contains(&(EntityType::CardCvv, Some("/cc_cid"))));
        assert!(got.contains(&(EntityType::AbaRouting, Some("/echeck_routing_number"))));
        assert!(got.contains(&(EntityType::UsBankAccount, Some("/echeck_bank_account"))));
        assert!(
            !got.iter().any(|(_, f)| *f == Some("/cc_last_4")),
            "last four digits are redacted"
        );
        assert!(c.notice_trigger.met);
        assert!(
            c.notice_trigger.reason.contains("1798.82(h)(1)(C)"),
            "{}",
            c.notice_trigger.reason
        );
    }

    #[test]
    fn credentials_alone_trigger_notice() {
        let c =
            classify_text("auth failure username=kim.lee password=Tr0ub4dor&3 from 198.51.100.23");
        assert!(c.notice_trigger.met, "{:?}", c);
        assert!(c.notice_trigger.reason.contains("1798.82(h)(2)"));
    }

    #[test]
    fn ssn_without_a_name_does_not_trigger_notice() {
        let c = classify_text("ssn=536-22-5478");
        assert_eq!(c.entities.len(), 1);
        assert!(!c.notice_trigger.met);
        assert!(c.categories.contains(&CcpaCategory::SensitiveGovernmentId));
    }

    #[test]
    fn a_name_with_an_ssn_triggers_notice() {
        let c = classify_text("Customer Maria Garcia, SSN 536-22-5478, called about her refund.");
        assert!(c.notice_trigger.met, "{c:?}");
        assert!(c.notice_trigger.reason.contains("Social Security number"));
    }

    #[test]
    fn a_document_type_field_names_the_number_beside_it() {
        for (kind, value, expected) in [
            ("DL", "D1234567", EntityType::UsDriverLicense),
            (
                "drivers_license",
                "123 456 789",
                EntityType::UsDriverLicense,
            ),
            ("State ID", "S530-4605-6789", EntityType::UsDriverLicense),
            ("passport", "123456789", EntityType::UsPassport),
            ("SSN", "536225478", EntityType::UsSsn),
        ] {
            let record = json!({"customer": {"id": 42, "id_type": kind, "id_number": value}});
            let c = classify_record(&record);
            assert_eq!(
                found(&c),
                [(expected, Some("/customer/id_number"))],
                "{kind}"
            );
        }
        let order = json!({"type": "order", "number": "123456789"});
        assert!(classify_record(&order).entities.is_empty());
    }

    #[test]
    fn invalid_card_in_a_card_field_gives_a_diagnostic() {
        let c = classify_record(&json!({"cc_number": "4111111111111112"}));
        assert!(c.entities.is_empty());
        assert_eq!(c.diagnostics[0].code, "field_value_invalid");
        assert!(!c.diagnostics[0].message.contains("4111"));
    }

    #[test]
    fn deep_records_stop_with_a_diagnostic() {
        let mut value = json!({"email": "deep@example.com"});
        for _ in 0..100 {
            value = json!({ "x": value });
        }
        let c = classify_record(&value);
        assert!(c.entities.is_empty());
        assert_eq!(c.diagnostics[0].code, "record_too_deep");
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let c = classify_record(&json!({"a/b": {"e~mail": "x@example.com"}}));
        assert_eq!(c.entities[0].field.as_deref(), Some("/a~1b/e~0mail"));
    }

    fn check_offsets(text: &str, c: &Classification) {
        let n_chars = text.chars().count();
        for e in &c.entities {
            assert!(
                e.start < e.end && e.end <= n_chars,
                "{e:?} in {n_chars} chars"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_offsets_stay_in_range(text in "\\PC{0,300}") {
            let c = classify_text(&text);
            check_offsets(&text, &c);
        }

        #[test]
        fn pii_shaped_text_never_panics(text in "[0-9A-Za-z@.:=/ ,\\-()#'\"é€\n]{0,200}") {
            let c = classify_text(&text);
            check_offsets(&text, &c);
        }

        #[test]
        fn arbitrary_records_never_panic(
            key in "[a-z_]{0,12}",
            value in "[0-9A-Za-z@.:=/ ,\\-()#é]{0,80}",
            number in any::<i64>(),
        ) {
            let record = json!({ key.clone(): value.clone(), "nested": [{ key.clone(): number }] });
            let c = classify_record(&record);
            for e in &c.entities {
                let field = e.field.clone().unwrap_or_default();
                let text = match record.pointer(&field) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => panic!("pointer {field} does not resolve"),
                };
                prop_assert!(e.start < e.end && e.end <= text.chars().count());
            }
        }
    }
}

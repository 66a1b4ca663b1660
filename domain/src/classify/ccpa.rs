//! Maps findings to CCPA categories (Cal. Civ. Code § 1798.140(v) personal information and
//! § 1798.140(ae) sensitive personal information) and tests the § 1798.82(h) notice trigger.
//!
//! This is the data-element test only. Residency, encryption and key compromise, and the public
//! records exclusion are decided by the incident engine with facts this module does not have.

use super::{Entity, EntityType};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// A CCPA category of personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CcpaCategory {
    /// (v)(1)(A): name, postal address, online identifier, IP address, email, account name,
    /// SSN, driver's license, passport.
    Identifiers,
    /// (v)(1)(B): § 1798.80(e) customer records: phone, bank and card numbers, and the like.
    CustomerRecords,
    /// (v)(1)(C): characteristics of protected classifications (age, from a date of birth).
    ProtectedCharacteristics,
    /// (ae)(1)(A): SSN, driver's license, state ID or passport number.
    SensitiveGovernmentId,
    /// (ae)(1)(B): account log-in with the password or credentials that allow access.
    SensitiveAccountLogin,
    /// (ae)(1)(B): financial account or card number with its required security or access code.
    SensitiveFinancialAccount,
}

impl CcpaCategory {
    pub fn id(self) -> &'static str {
        match self {
            CcpaCategory::Identifiers => "identifiers",
            CcpaCategory::CustomerRecords => "customer_records",
            CcpaCategory::ProtectedCharacteristics => "protected_characteristics",
            CcpaCategory::SensitiveGovernmentId => "sensitive_government_id",
            CcpaCategory::SensitiveAccountLogin => "sensitive_account_login",
            CcpaCategory::SensitiveFinancialAccount => "sensitive_financial_account",
        }
    }

    pub fn citation(self) -> &'static str {
        match self {
            CcpaCategory::Identifiers => "Cal. Civ. Code § 1798.140(v)(1)(A)",
            CcpaCategory::CustomerRecords => "Cal. Civ. Code § 1798.140(v)(1)(B)",
            CcpaCategory::ProtectedCharacteristics => "Cal. Civ. Code § 1798.140(v)(1)(C)",
            CcpaCategory::SensitiveGovernmentId => "Cal. Civ. Code § 1798.140(ae)(1)(A)",
            CcpaCategory::SensitiveAccountLogin | CcpaCategory::SensitiveFinancialAccount => {
                "Cal. Civ. Code § 1798.140(ae)(1)(B)"
            }
        }
    }

    /// True for sensitive personal information (§ 1798.140(ae)).
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            CcpaCategory::SensitiveGovernmentId
                | CcpaCategory::SensitiveAccountLogin
                | CcpaCategory::SensitiveFinancialAccount
        )
    }
}

impl Serialize for CcpaCategory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("CcpaCategory", 3)?;
        out.serialize_field("id", self.id())?;
        out.serialize_field("citation", self.citation())?;
        out.serialize_field("sensitive", &self.is_sensitive())?;
        out.end()
    }
}

/// The § 1798.140(v) categories one entity type falls under on its own.
fn base_categories(entity_type: EntityType) -> &'static [CcpaCategory] {
    use CcpaCategory::*;
    match entity_type {
        EntityType::Person
        | EntityType::Email
        | EntityType::IpAddress
        | EntityType::Username
        | EntityType::StreetAddress => &[Identifiers],
        EntityType::UsSsn | EntityType::UsDriverLicense | EntityType::UsPassport => {
            &[Identifiers, CustomerRecords, SensitiveGovernmentId]
        }
        EntityType::UsItin => &[Identifiers, CustomerRecords],
        EntityType::Phone
        | EntityType::CreditCard
        | EntityType::CardCvv
        | EntityType::AbaRouting
        | EntityType::UsBankAccount
        | EntityType::Iban
        | EntityType::Password => &[CustomerRecords],
        EntityType::DateOfBirth => &[ProtectedCharacteristics],
    }
}

struct Present {
    types: Vec<EntityType>,
    full_name: bool,
    given: bool,
    family: bool,
}

impl Present {
    fn of(entities: &[Entity]) -> Self {
        let mut types: Vec<EntityType> = entities.iter().map(|e| e.entity_type).collect();
        types.sort();
        types.dedup();
        let persons = entities
            .iter()
            .filter(|e| e.entity_type == EntityType::Person);
        let mut present = Present {
            types,
            full_name: false,
            given: false,
            family: false,
        };
        for person in persons {
            match person.name_part {
                super::NamePart::Full => present.full_name = true,
                super::NamePart::Given => present.given = true,
                super::NamePart::Family => present.family = true,
                super::NamePart::NotAName => {}
            }
        }
        present
    }

    fn has(&self, entity_type: EntityType) -> bool {
        self.types.binary_search(&entity_type).is_ok()
    }

    fn has_name(&self) -> bool {
        self.full_name || (self.given && self.family)
    }

    fn financial_account(&self) -> bool {
        self.has(EntityType::CreditCard)
            || self.has(EntityType::UsBankAccount)
            || self.has(EntityType::Iban)
    }

    fn access_code(&self) -> bool {
        self.has(EntityType::CardCvv) || self.has(EntityType::Password)
    }

    fn login(&self) -> bool {
        (self.has(EntityType::Username) || self.has(EntityType::Email))
            && self.has(EntityType::Password)
    }
}

/// The categories present, including the sensitive combinations.
pub fn categories(entities: &[Entity]) -> Vec<CcpaCategory> {
    let present = Present::of(entities);
    let mut out: Vec<CcpaCategory> = present
        .types
        .iter()
        .flat_map(|t| base_categories(*t).iter().copied())
        .collect();
    if present.financial_account() && present.access_code() {
        out.push(CcpaCategory::SensitiveFinancialAccount);
    }
    if present.login() {
        out.push(CcpaCategory::SensitiveAccountLogin);
    }
    out.sort();
    out.dedup();
    out
}

/// Whether the § 1798.82(h) combination is present, and why (in words, never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeTrigger {
    pub met: bool,
    pub reason: String,
    /// The subdivisions that matched, e.g. `1798.82(h)(1)(A)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisions: Vec<&'static str>,
}

fn list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

/// Tests the data elements of Cal. Civ. Code § 1798.82(h).
pub fn notice_trigger(entities: &[Entity]) -> NoticeTrigger {
    let present = Present::of(entities);
    let mut reasons = Vec::new();
    let mut provisions = Vec::new();

    let mut ids: Vec<&str> = Vec::new();
    if present.has(EntityType::UsSsn) {
        ids.push(EntityType::UsSsn.describe());
    }
    let mut gov_ids: Vec<&str> = Vec::new();
    for t in [
        EntityType::UsDriverLicense,
        EntityType::UsPassport,
        EntityType::UsItin,
    ] {
        if present.has(t) {
            gov_ids.push(t.describe());
        }
    }
    let financial = present.financial_account() && present.access_code();

    if present.has_name() {
        if !ids.is_empty() {
            reasons.push(format!(
                "first name or initial and last name with a {} (§ 1798.82(h)(1)(A))",
                list(&ids)
            ));
            provisions.push("1798.82(h)(1)(A)");
        }
        if !gov_ids.is_empty() {
            reasons.push(format!(
                "first name or initial and last name with a {} (§ 1798.82(h)(1)(B))",
                list(&gov_ids)
            ));
            provisions.push("1798.82(h)(1)(B)");
        }
        if financial {
            reasons.push(
                "first name or initial and last name with an account or card number and the security code or password that permits access (§ 1798.82(h)(1)(C))"
                    .to_owned(),
            );
            provisions.push("1798.82(h)(1)(C)");
        }
    }
    if present.login() {
        let hashed: Vec<&str> = entities
            .iter()
            .filter(|e| e.entity_type == EntityType::Password)
            .map(|e| e.hash_algorithm)
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let mut reason = "a user name or email address with the password that permits access to an online account (§ 1798.82(h)(2))".to_owned();
        if !hashed.is_empty() {
            let mut schemes = hashed;
            schemes.sort_unstable();
            schemes.dedup();
            reason.push_str(&format!(
                "; the password is stored hashed ({}), so whether the encryption safe harbor applies needs review",
                schemes.join(", ")
            ));
        }
        reasons.push(reason);
        provisions.push("1798.82(h)(2)");
    }
    if !reasons.is_empty() {
        return NoticeTrigger {
            met: true,
            reason: reasons.join("; "),
            provisions,
        };
    }

    let reason = if !present.has_name() && (!ids.is_empty() || !gov_ids.is_empty() || financial) {
        let mut elements = ids;
        elements.extend(gov_ids);
        if financial {
            elements.push("account or card number with its access code");
        }
        format!(
            "{} present without a first name or initial and last name",
            list(&elements)
        )
    } else if present.financial_account() {
        "account or card number without the security code, access code or password that permits access".to_owned()
    } else if present.has(EntityType::Password) {
        "password without a user name or email address".to_owned()
    } else if present.has_name() {
        "name without any § 1798.82(h)(1) data element".to_owned()
    } else {
        "no § 1798.82(h) combination of data elements".to_owned()
    };
    NoticeTrigger {
        met: false,
        reason,
        provisions,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::{classify_record, classify_text};
    use super::*;
    use serde_json::json;

    #[test]
    fn dob_is_a_protected_characteristic_and_phone_a_customer_record() {
        let c = classify_record(&json!({"dob": "1984-02-29", "telephone": "415-555-2671"}));
        assert_eq!(
            c.categories,
            [
                CcpaCategory::CustomerRecords,
                CcpaCategory::ProtectedCharacteristics
            ]
        );
        assert!(!c.notice_trigger.met);
    }

    #[test]
    fn first_and_last_name_fields_with_a_passport_trigger_notice() {
        let c = classify_record(
            &json!({"firstname": "Ana", "lastname": "Silva", "passport_number": "123456789"}),
        );
        assert!(c.notice_trigger.met, "{c:?}");
        assert_eq!(c.notice_trigger.provisions, ["1798.82(h)(1)(B)"]);
    }

    #[test]
    fn a_card_without_its_code_is_not_enough() {
        let c = classify_record(
            &json!({"first_name": "Ana", "last_name": "Silva", "cc_number": "4111111111111111"}),
        );
        assert!(!c.notice_trigger.met);
        assert!(
            c.notice_trigger
                .reason
                .contains("without the security code")
        );
        assert!(
            !c.categories
                .contains(&CcpaCategory::SensitiveFinancialAccount)
        );
    }

    #[test]
    fn an_email_and_password_are_sensitive_login_data() {
        let c = classify_text("email=ana@example.com pwd=letmein");
        assert!(c.categories.contains(&CcpaCategory::SensitiveAccountLogin));
        assert!(c.notice_trigger.met);
    }

    #[test]
    fn a_hashed_password_is_flagged_for_review() {
        let c = classify_record(&json!({
            "email": "ana@example.com",
            "password_hash": "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
        }));
        assert!(c.notice_trigger.met);
        assert!(
            c.notice_trigger.reason.contains("stored hashed (bcrypt)"),
            "{}",
            c.notice_trigger.reason
        );
        let password = c
            .entities
            .iter()
            .find(|e| e.entity_type == EntityType::Password)
            .unwrap();
        assert_eq!(password.hash_algorithm, Some("bcrypt"));
    }

    #[test]
    fn categories_serialize_with_citations() {
        let value = serde_json::to_value(CcpaCategory::SensitiveGovernmentId).unwrap_or_default();
        assert_eq!(value["id"], "sensitive_government_id");
        assert_eq!(value["sensitive"], true);
    }
}

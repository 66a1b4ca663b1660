//! Data elements and the personal-information test: does what was taken, with the encryption
//! facts, fall under a jurisdiction's definition, and which elements (or which safe harbour)
//! decided it.
//!
//! Element names are the classifier's entity names (`classify::EntityType`) plus the elements
//! the statutes name that the classifier does not detect (medical, biometric, …), which an
//! investigator reports by hand. Two elements are derived, never only reported: a financial
//! account with its code, and login credentials.

use super::input::Encryption;
use super::rules::{PiDefinition, SafeHarbour};
use crate::classify::EntityType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::str::FromStr;

/// A kind of personal data, as the statutes list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataElement {
    /// A name: taken as first name or initial and last name.
    Person,
    Email,
    Username,
    Password,
    SecurityQa,
    UsSsn,
    UsDriverLicense,
    /// A state identification card number.
    StateId,
    /// A taxpayer identification number.
    UsItin,
    UsPassport,
    MilitaryId,
    /// Another unique number on a government document used to verify identity.
    GovIdOther,
    CreditCard,
    UsBankAccount,
    Iban,
    CardCvv,
    /// A PIN, access code or other code that permits access to a financial account.
    AccessCode,
    MedicalInfo,
    HealthInsuranceId,
    BiometricTemplate,
    GeneticData,
    AlprRecord,
    DateOfBirth,
    /// A private key for an electronic signature.
    ESignatureKey,
    Phone,
    IpAddress,
    StreetAddress,
    AbaRouting,
    /// Derived: an account or card number with a code or password that permits access.
    FinancialAccountWithCode,
    /// Derived: a user name or e-mail address with a password or security question and answer.
    LoginCredentials,
}

impl DataElement {
    /// Every element, in a stable order.
    pub const ALL: [DataElement; 30] = [
        DataElement::Person,
        DataElement::Email,
        DataElement::Username,
        DataElement::Password,
        DataElement::SecurityQa,
        DataElement::UsSsn,
        DataElement::UsDriverLicense,
        DataElement::StateId,
        DataElement::UsItin,
        DataElement::UsPassport,
        DataElement::MilitaryId,
        DataElement::GovIdOther,
        DataElement::CreditCard,
        DataElement::UsBankAccount,
        DataElement::Iban,
        DataElement::CardCvv,
        DataElement::AccessCode,
        DataElement::MedicalInfo,
        DataElement::HealthInsuranceId,
        DataElement::BiometricTemplate,
        DataElement::GeneticData,
        DataElement::AlprRecord,
        DataElement::DateOfBirth,
        DataElement::ESignatureKey,
        DataElement::Phone,
        DataElement::IpAddress,
        DataElement::StreetAddress,
        DataElement::AbaRouting,
        DataElement::FinancialAccountWithCode,
        DataElement::LoginCredentials,
    ];

    /// The name used on the command line and in the rule file.
    pub fn name(self) -> &'static str {
        match self {
            DataElement::Person => "PERSON",
            DataElement::Email => "EMAIL",
            DataElement::Username => "USERNAME",
            DataElement::Password => "PASSWORD",
            DataElement::SecurityQa => "SECURITY_QA",
            DataElement::UsSsn => "US_SSN",
            DataElement::UsDriverLicense => "US_DRIVER_LICENSE",
            DataElement::StateId => "STATE_ID",
            DataElement::UsItin => "US_ITIN",
            DataElement::UsPassport => "US_PASSPORT",
            DataElement::MilitaryId => "MILITARY_ID",
            DataElement::GovIdOther => "GOV_ID_OTHER",
            DataElement::CreditCard => "CREDIT_CARD",
            DataElement::UsBankAccount => "US_BANK_ACCOUNT",
            DataElement::Iban => "IBAN",
            DataElement::CardCvv => "CARD_CVV",
            DataElement::AccessCode => "ACCESS_CODE",
            DataElement::MedicalInfo => "MEDICAL_INFO",
            DataElement::HealthInsuranceId => "HEALTH_INSURANCE_ID",
            DataElement::BiometricTemplate => "BIOMETRIC_TEMPLATE",
            DataElement::GeneticData => "GENETIC_DATA",
            DataElement::AlprRecord => "ALPR_RECORD",
            DataElement::DateOfBirth => "DATE_OF_BIRTH",
            DataElement::ESignatureKey => "E_SIGNATURE_KEY",
            DataElement::Phone => "PHONE",
            DataElement::IpAddress => "IP_ADDRESS",
            DataElement::StreetAddress => "STREET_ADDRESS",
            DataElement::AbaRouting => "ABA_ROUTING",
            DataElement::FinancialAccountWithCode => "FINANCIAL_ACCOUNT_WITH_CODE",
            DataElement::LoginCredentials => "LOGIN_CREDENTIALS",
        }
    }

    /// Words for a reason line.
    pub fn describe(self) -> &'static str {
        match self {
            DataElement::Person => "name",
            DataElement::Email => "e-mail address",
            DataElement::Username => "user name",
            DataElement::Password => "password",
            DataElement::SecurityQa => "security question and answer",
            DataElement::UsSsn => "Social Security number",
            DataElement::UsDriverLicense => "driver's license number",
            DataElement::StateId => "state ID card number",
            DataElement::UsItin => "tax identification number",
            DataElement::UsPassport => "passport number",
            DataElement::MilitaryId => "military ID number",
            DataElement::GovIdOther => "other government ID number",
            DataElement::CreditCard => "payment card number",
            DataElement::UsBankAccount => "bank account number",
            DataElement::Iban => "IBAN",
            DataElement::CardCvv => "card security code",
            DataElement::AccessCode => "account access code",
            DataElement::MedicalInfo => "medical information",
            DataElement::HealthInsuranceId => "health insurance information",
            DataElement::BiometricTemplate => "biometric data",
            DataElement::GeneticData => "genetic data",
            DataElement::AlprRecord => "license plate recognition data",
            DataElement::DateOfBirth => "date of birth",
            DataElement::ESignatureKey => "electronic signature private key",
            DataElement::Phone => "phone number",
            DataElement::IpAddress => "IP address",
            DataElement::StreetAddress => "street address",
            DataElement::AbaRouting => "bank routing number",
            DataElement::FinancialAccountWithCode => {
                "account or card number with the code that permits access"
            }
            DataElement::LoginCredentials => {
                "user name or e-mail address with a password or security question and answer"
            }
        }
    }
}

impl FromStr for DataElement {
    type Err = super::LawError;

    /// Accepts the names above and the aliases `EMAIL_ADDRESS`, `PHONE_NUMBER`, `US_ITIN`'s
    /// `TAX_ID`, `CA_ID` and `PASSWORD_HASH` (a hash is treated as the password: whether it
    /// is "encrypted" is counsel's call, and the cautious answer is no).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let alias = match upper.as_str() {
            "EMAIL_ADDRESS" => Some(DataElement::Email),
            "PHONE_NUMBER" => Some(DataElement::Phone),
            "TAX_ID" | "TIN" => Some(DataElement::UsItin),
            "CA_ID" => Some(DataElement::StateId),
            "PASSWORD_HASH" => Some(DataElement::Password),
            _ => None,
        };
        alias
            .or_else(|| DataElement::ALL.into_iter().find(|e| e.name() == upper))
            .ok_or_else(|| super::LawError::UnknownCategory(s.trim().to_owned(), known_names()))
    }
}

impl From<EntityType> for DataElement {
    fn from(t: EntityType) -> Self {
        match t {
            EntityType::Person => DataElement::Person,
            EntityType::Email => DataElement::Email,
            EntityType::Phone => DataElement::Phone,
            EntityType::UsSsn => DataElement::UsSsn,
            EntityType::UsItin => DataElement::UsItin,
            EntityType::CreditCard => DataElement::CreditCard,
            EntityType::CardCvv => DataElement::CardCvv,
            EntityType::AbaRouting => DataElement::AbaRouting,
            EntityType::UsBankAccount => DataElement::UsBankAccount,
            EntityType::Iban => DataElement::Iban,
            EntityType::UsDriverLicense => DataElement::UsDriverLicense,
            EntityType::UsPassport => DataElement::UsPassport,
            EntityType::IpAddress => DataElement::IpAddress,
            EntityType::DateOfBirth => DataElement::DateOfBirth,
            EntityType::StreetAddress => DataElement::StreetAddress,
            EntityType::Username => DataElement::Username,
            EntityType::Password => DataElement::Password,
        }
    }
}

/// Every element name, for error messages.
pub(crate) fn known_names() -> String {
    let names: Vec<&str> = DataElement::ALL.iter().map(|e| e.name()).collect();
    names.join(", ")
}

/// The reported elements plus the derived combinations.
pub(crate) fn with_derived(reported: &BTreeSet<DataElement>) -> BTreeSet<DataElement> {
    let mut out = reported.clone();
    let has = |e| reported.contains(&e);
    let account =
        has(DataElement::CreditCard) || has(DataElement::UsBankAccount) || has(DataElement::Iban);
    let code =
        has(DataElement::CardCvv) || has(DataElement::AccessCode) || has(DataElement::Password);
    if account && code {
        out.insert(DataElement::FinancialAccountWithCode);
    }
    let login = has(DataElement::Username) || has(DataElement::Email);
    let secret = has(DataElement::Password) || has(DataElement::SecurityQa);
    if login && secret {
        out.insert(DataElement::LoginCredentials);
    }
    out
}

/// Whether a definition was met, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerOutcome {
    pub triggered: bool,
    /// The elements (or combinations) that met the definition.
    pub elements: Vec<DataElement>,
    /// True when the data would have triggered notice but the encryption safe harbour held.
    pub safe_harbour_applied: bool,
    pub reason: String,
}

fn words(elements: &[DataElement]) -> String {
    let names: Vec<&str> = elements.iter().map(|e| e.describe()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

/// Tests `categories` (`None` = not yet known) against a definition.
pub(crate) fn test_definition(
    pi: &PiDefinition,
    categories: Option<&BTreeSet<DataElement>>,
    encryption: Encryption,
) -> TriggerOutcome {
    if pi.data_independent {
        return TriggerOutcome {
            triggered: true,
            elements: Vec::new(),
            safe_harbour_applied: false,
            reason: format!(
                "triggered: the rule applies to the incident whatever the data ({})",
                pi.citation
            ),
        };
    }
    let Some(reported) = categories else {
        return TriggerOutcome {
            triggered: true,
            elements: Vec::new(),
            safe_harbour_applied: false,
            reason: "data categories not given: treated as notifiable until the data is classified"
                .to_owned(),
        };
    };
    let present = with_derived(reported);
    let mut matched: Vec<DataElement> = Vec::new();
    let has_name = present.contains(&DataElement::Person);
    if has_name {
        matched.extend(pi.name_with.iter().filter(|e| present.contains(e)));
    }
    matched.extend(pi.alone.iter().filter(|e| present.contains(e)));
    if pi.credentials && present.contains(&DataElement::LoginCredentials) {
        matched.push(DataElement::LoginCredentials);
    }
    if pi.any_personal_data && !present.is_empty() {
        matched.extend(present.iter().copied().filter(|e| {
            !matches!(
                e,
                DataElement::FinancialAccountWithCode | DataElement::LoginCredentials
            )
        }));
    }
    matched.sort_unstable();
    matched.dedup();

    if matched.is_empty() {
        let without_name: Vec<DataElement> = pi
            .name_with
            .iter()
            .copied()
            .filter(|e| present.contains(e))
            .collect();
        let reason = if !without_name.is_empty() {
            format!(
                "{} without a first name or initial and last name does not trigger notice under {}",
                words(&without_name),
                pi.citation
            )
        } else {
            let reported: Vec<DataElement> = reported.iter().copied().collect();
            if reported.is_empty() {
                "no personal data reported".to_owned()
            } else {
                format!(
                    "{} alone is not personal information under {}",
                    words(&reported),
                    pi.citation
                )
            }
        };
        return TriggerOutcome {
            triggered: false,
            elements: Vec::new(),
            safe_harbour_applied: false,
            reason,
        };
    }
    let combo = if has_name && matched.iter().any(|e| pi.name_with.contains(e)) {
        format!("name with {}", words(&matched))
    } else {
        words(&matched)
    };
    match (
        pi.safe_harbour,
        encryption.encrypted,
        encryption.key_compromised,
    ) {
        (SafeHarbour::EncryptedUnlessKeyCompromised, true, false) => TriggerOutcome {
            triggered: false,
            elements: matched,
            safe_harbour_applied: true,
            reason: format!(
                "not triggered: {combo} was encrypted and the key was not taken (encryption safe harbour, {})",
                pi.citation
            ),
        },
        (SafeHarbour::EncryptedUnlessKeyCompromised, true, true) => TriggerOutcome {
            triggered: true,
            elements: matched,
            safe_harbour_applied: false,
            reason: format!(
                "triggered: {combo} (encrypted, but the key was also taken, so the safe harbour does not apply; {})",
                pi.citation
            ),
        },
        _ => TriggerOutcome {
            triggered: true,
            elements: matched,
            safe_harbour_applied: false,
            reason: format!("triggered: {combo} ({})", pi.citation),
        },
    }
}

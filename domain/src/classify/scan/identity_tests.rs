//! Table-driven tests of the identifiers that decide breach notice: driver's licence and state ID
//! numbers of every state in their printed layouts, SSNs in their written forms, and the
//! PII-free look-alikes (order numbers, SKUs, tracking numbers, phones, plates, keys) that must
//! stay silent.

use super::*;
use crate::classify::context::field_hint;

fn found(text: &str, hint: Option<Hint>) -> Vec<(EntityType, &str)> {
    scan(text, hint)
        .into_iter()
        .map(|f| (f.entity_type, &text[f.start..f.end]))
        .collect()
}

/// One licence per state and DC as it is printed or typed.
const LICENCES: &[(&str, &str)] = &[
    ("AL", "7654321"),
    ("AK", "1234567"),
    ("AZ", "D08954796"),
    ("AR", "912345678"),
    ("CA", "D1234567"),
    ("CO", "12-345-6789"),
    ("CT", "990123456"),
    ("DE", "1234567"),
    ("DC", "1234567"),
    ("FL", "S530-460-56-789-0"),
    ("GA", "123456789"),
    ("HI", "H12345678"),
    ("ID", "AB123456C"),
    ("IL", "S530-4605-6789"),
    ("IN", "1234-56-7890"),
    ("IA", "123AB4567"),
    ("KS", "K12345678"),
    ("KY", "K12345678"),
    ("LA", "123456789"),
    ("ME", "1234567X"),
    ("MD", "M-123-456-789-012"),
    ("MA", "S12345678"),
    ("MI", "M 123 456 789 012"),
    ("MN", "M123456789012"),
    ("MS", "801234567"),
    ("MO", "A123456R"),
    ("MT", "0123456789012"),
    ("NE", "A1234567"),
    ("NV", "X12345678"),
    ("NH", "12ABC34567"),
    ("NJ", "A1234 56789 01234"),
    ("NM", "123456789"),
    ("NY", "123 456 789"),
    ("NC", "000012345678"),
    ("ND", "ABC123456"),
    ("OH", "AB123456"),
    ("OK", "A123456789"),
    ("OR", "A123456"),
    ("PA", "12 345 678"),
    ("RI", "V123456"),
    ("SC", "102345678"),
    ("SD", "01234567"),
    ("TN", "123456789"),
    ("TX", "12345678"),
    ("UT", "123456789"),
    ("VT", "1234567A"),
    ("VA", "T12-34-5678"),
    ("WA", "WDLAB12CD34E"),
    ("WV", "AB12345"),
    ("WI", "S530-4605-6789-01"),
    ("WY", "123456-789"),
];

#[test]
fn every_state_licence_is_found_after_its_keywords() {
    assert_eq!(LICENCES.len(), 51);
    for (state, number) in LICENCES {
        for text in [
            format!("{state} driver's license {number}"),
            format!("DL# {number}, verified"),
            format!("Driver License ({state}): {number}"),
            format!("Lic. No. {number}"),
            format!("state ID card number {state} {number} on file"),
            format!("D/L {number}"),
        ] {
            assert_eq!(
                found(&text, None),
                [(EntityType::UsDriverLicense, *number)],
                "{text}"
            );
        }
        let field = format!("{state} {number}");
        assert_eq!(
            found(&field, Some(Hint::DriverLicense)),
            [(EntityType::UsDriverLicense, *number)],
            "{field}"
        );
    }
}

#[test]
fn a_named_state_rejects_other_states_shapes() {
    for text in [
        "CA driver's license 1234567890",
        "TX DL# A1234567",
        "Florida driver license D1234567",
        "New York DL 1234567",
    ] {
        assert!(found(text, None).is_empty(), "{text}");
    }
    assert_eq!(
        found("New York DL 123 456 789", None),
        [(EntityType::UsDriverLicense, "123 456 789")]
    );
}

#[test]
fn licence_keywords_in_many_wordings() {
    for (text, number) in [
        ("drivers lic # D1234567", "D1234567"),
        ("operator license: 123456789", "123456789"),
        ("licencia de conducir A1234567", "A1234567"),
        ("ID card no. 123456789", "123456789"),
        ("CDL K12345678 (class A)", "K12345678"),
        ("driving licence number S530-4605-6789", "S530-4605-6789"),
        ("dl_number=D1234567 ts=1700000000", "D1234567"),
        (r#"{"dl_number": "D1234567"}"#, "D1234567"),
        ("DLN: WDLAB12CD34E", "WDLAB12CD34E"),
        ("Driver's License (verified) D1234567", "D1234567"),
        ("DL/ID# 706871333R", "706871333R"),
        ("Driver’s License: f-0652-1058-6337", "f-0652-1058-6337"),
        ("permiso de conducir 840 060 990", "840 060 990"),
        ("dlNum=F-8393-2654-8658", "F-8393-2654-8658"),
        ("StateIDNo=896601673", "896601673"),
        ("dl-number: I560260", "I560260"),
        ("photo ID (driver's license) 1332937010", "1332937010"),
        (
            "drivers license number is Z 97231296754163",
            "Z 97231296754163",
        ),
        ("state identification number O XYUGPS836U8", "O XYUGPS836U8"),
    ] {
        assert_eq!(
            found(text, None),
            [(EntityType::UsDriverLicense, number)],
            "{text}"
        );
    }
}

#[test]
fn a_two_word_state_name_is_not_read_as_its_last_word() {
    // "West Virginia" issues seven-digit numbers; Virginia does not.
    let licences: Vec<_> = found("West Virginia ID card 1888868", None)
        .into_iter()
        .filter(|(t, _)| *t == EntityType::UsDriverLicense)
        .collect();
    assert_eq!(licences, [(EntityType::UsDriverLicense, "1888868")]);
}

#[test]
fn licence_and_state_id_field_names() {
    for key in [
        "dl_number",
        "DriversLicenceNo",
        "stateIdNumber",
        "id_card_number",
        "operator_lic",
        "DLN",
        "lic_no",
        "driver_lic_num",
        "drivers_license",
    ] {
        assert_eq!(field_hint(key, None), Some(Hint::DriverLicense), "{key}");
    }
    for key in [
        "license_plate",
        "license_key",
        "dl_expiration_date",
        "license_class",
        "driver_id",
        "business_license",
    ] {
        assert_ne!(field_hint(key, None), Some(Hint::DriverLicense), "{key}");
    }
}

#[test]
fn ssns_in_their_written_forms() {
    for (text, ssn) in [
        ("SSN 536-22-5478", "536-22-5478"),
        ("SS# 536225478", "536225478"),
        ("soc sec no 536 22 5478", "536 22 5478"),
        ("Social Sec. #: 536-22-5478", "536-22-5478"),
        ("S.S.N. 536.22.5478", "536.22.5478"),
        ("Soc. Sec. No. 536225478", "536225478"),
        ("número de seguro social 536-22-5478", "536-22-5478"),
        ("ssn = 536225478", "536225478"),
        ("on file: 536 22 5478 thanks", "536 22 5478"),
        ("SSN (verified) 536225478", "536225478"),
        ("social security number is 536–22–5478", "536–22–5478"),
        ("SSNum=536225478", "536225478"),
        ("ss_number=536225478", "536225478"),
        ("SocSecNo=536.22.5478", "536.22.5478"),
        ("S.S. No. 536225478", "536225478"),
        ("soc.sec.no. 536225478", "536225478"),
        ("soc. security # 536225478", "536225478"),
        ("S/S# 536225478", "536225478"),
        (
            "social security number of the account holder: 536225478",
            "536225478",
        ),
    ] {
        assert_eq!(found(text, None), [(EntityType::UsSsn, ssn)], "{text}");
    }
    for (key, value) in [
        ("ss_number", "536225478"),
        ("SocSecNo", "536.22.5478"),
        ("ssn", "536 22 5478"),
    ] {
        let hint = field_hint(key, None);
        assert_eq!(
            found(value, hint),
            [(EntityType::UsSsn, value)],
            "{key}={value}"
        );
    }
}

#[test]
fn invalid_ssns_are_not_reported() {
    for text in [
        "SSN 000-22-5478",
        "SSN 666-22-5478",
        "SSN 536-00-5478",
        "SSN 536-22-0000",
        "ssn 53622547",
        "536 22 5478 1234 5678",
        "code 536.22.5478",
    ] {
        assert!(
            !found(text, None)
                .iter()
                .any(|(t, _)| *t == EntityType::UsSsn),
            "{text}"
        );
    }
}

#[test]
fn pii_free_look_alikes_stay_silent() {
    for text in [
        "Order #123456789 shipped",
        "order 536225478 shipped",
        "SKU DL-2000-XL in stock",
        "model DL-2000 dehumidifier",
        "tracking 1Z999AA10123456784",
        "USPS 9400111899223344556677",
        "FedEx 123456789012",
        "support line (415) 555-2671",
        "at 2026-03-01T12:00:00Z",
        "ts=1700000000",
        "zip 94107-1234",
        "Invoice INV-2024-000123",
        "invoice 536-22-5478",
        "license plate 7ABC123",
        "License key: 1234-ABCD-5678-EFGH",
        "driver 582113 assigned to route 7",
        "Delivery driver ID D123456",
        "business license #12345678",
        "MIT License 2.0",
        "software license renewal fee 12500",
        "license expires 2027-05-31",
        "DL issued 2019-03-02",
        "https://example.com/file.zip?dl=1",
        "id card printer model ID-4411",
        "batch 536225478",
        "download https://cdn.example.com/dl/51390956",
        "Part No. DL-12345",
    ] {
        let ids: Vec<_> = found(text, None)
            .into_iter()
            .filter(|(t, _)| *t != EntityType::Phone)
            .collect();
        assert!(ids.is_empty(), "{text}: {ids:?}");
    }
}

#[test]
fn tax_ids_routing_numbers_and_passports_in_other_wordings() {
    for (text, entity_type, value) in [
        (
            "taxpayer identification number 994956200",
            EntityType::UsItin,
            "994956200",
        ),
        ("taxpayer_id=907-53-0941", EntityType::UsItin, "907-53-0941"),
        ("TaxID=992-81-8589", EntityType::UsItin, "992-81-8589"),
        (
            "Tax Identification No. 935928331",
            EntityType::UsItin,
            "935928331",
        ),
        ("ABARouting=113500303", EntityType::AbaRouting, "113500303"),
        ("pasaporte K89712963", EntityType::UsPassport, "K89712963"),
        ("passportId=E29323622", EntityType::UsPassport, "E29323622"),
        (
            "ACCOUNT_NO=13845099435 1Z_842_AA1",
            EntityType::UsBankAccount,
            "13845099435",
        ),
        (
            "tax_identification_number=992637543",
            EntityType::UsItin,
            "992637543",
        ),
    ] {
        assert_eq!(found(text, None), [(entity_type, value)], "{text}");
    }
}

#[test]
fn csv_headers_with_punctuation_name_their_columns() {
    let text = "name,Driver's License #,Social Security #,order_id\n\
                Ana Silva,D1234567,536-22-5478,100234\n";
    let ids: Vec<_> = found(text, None)
        .into_iter()
        .filter(|(t, _)| *t != EntityType::Person)
        .collect();
    assert_eq!(
        ids,
        [
            (EntityType::UsDriverLicense, "D1234567"),
            (EntityType::UsSsn, "536-22-5478")
        ]
    );
    // A first line of prose with a comma is not a header.
    let prose = "Hello, this is Pedro. SSN 214-75-3982\nRouting: 129729796";
    assert!(found(prose, None).contains(&(EntityType::UsSsn, "214-75-3982")));
}

#[test]
fn a_keyword_does_not_reach_across_another_key() {
    // "cell" in a product slug says nothing about the variant id in the next field.
    let text = "page=/products/nice-money-cell variant=49153100272211 qty=1";
    assert!(found(text, None).is_empty());
    assert_eq!(
        found("ssn = 536225478", None),
        [(EntityType::UsSsn, "536225478")]
    );
}

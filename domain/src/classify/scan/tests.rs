//! Tests of the scanner as a whole: each checks what `scan` finds in a string.

use super::*;

fn types(text: &str) -> Vec<(EntityType, &str)> {
    scan(text, None)
        .into_iter()
        .map(|f| (f.entity_type, &text[f.start..f.end]))
        .collect()
}

fn types_in_field(text: &str, hint: Hint) -> Vec<(EntityType, &str)> {
    scan(text, Some(hint))
        .into_iter()
        .map(|f| (f.entity_type, &text[f.start..f.end]))
        .collect()
}

#[test]
fn emails_are_trimmed_of_log_keys() {
    assert_eq!(
        types("user_email=jo.doe@example.com|next"),
        [(EntityType::Email, "jo.doe@example.com")]
    );
    assert!(types("logo@2x.png").is_empty());
}

#[test]
fn phones_need_a_valid_nanp_number() {
    assert_eq!(
        types("call (415) 555-2671 now"),
        [(EntityType::Phone, "(415) 555-2671")]
    );
    assert_eq!(
        types("tel: 415-555-2671"),
        [(EntityType::Phone, "415-555-2671")]
    );
    assert_eq!(
        types("+1 415 555 2671"),
        [(EntityType::Phone, "+1 415 555 2671")]
    );
    assert!(
        types("415-155-2671").is_empty(),
        "exchange may not start with 1"
    );
    assert!(
        types("ref 4155552671").is_empty(),
        "bare digits need a phone keyword"
    );
    assert_eq!(
        types("phone 4155552671"),
        [(EntityType::Phone, "4155552671")]
    );
    assert_eq!(
        types_in_field("4155552671", Hint::Phone),
        [(EntityType::Phone, "4155552671")]
    );
}

#[test]
fn ssn_and_itin_are_told_apart_and_validated() {
    assert_eq!(
        types("SSN 536-22-5478"),
        [(EntityType::UsSsn, "536-22-5478")]
    );
    assert_eq!(types("ssn=536225478"), [(EntityType::UsSsn, "536225478")]);
    assert!(types("ssn=666225478").is_empty());
    assert!(types("SSN 536-00-5478").is_empty());
    assert!(
        types("536225478").is_empty(),
        "a bare 9-digit number needs context"
    );
    assert_eq!(
        types("ITIN 912-70-1234"),
        [(EntityType::UsItin, "912-70-1234")]
    );
    assert_eq!(
        types("SSN 912-70-1234"),
        [(EntityType::UsItin, "912-70-1234")]
    );
    assert!(types("ITIN 912-93-1234").is_empty());
}

#[test]
fn cards_need_luhn_and_an_issuer_range() {
    assert_eq!(
        types("paid with 4111 1111 1111 1111"),
        [(EntityType::CreditCard, "4111 1111 1111 1111")]
    );
    assert_eq!(
        types("2221000000000009"),
        [(EntityType::CreditCard, "2221000000000009")]
    );
    assert!(types("gift card 6035 1234 5678 9012").is_empty());
    assert!(types("4111 1111 1111 1112").is_empty());
    assert_eq!(
        types("card 4111111111111111 123"),
        [(EntityType::CreditCard, "4111111111111111")]
    );
    assert_eq!(
        types("card 4111111111111111 cvv 123"),
        [
            (EntityType::CreditCard, "4111111111111111"),
            (EntityType::CardCvv, "123")
        ]
    );
}

#[test]
fn routing_and_account_numbers_follow_their_keywords() {
    assert_eq!(
        types("routing 021000021 account 12345678"),
        [
            (EntityType::AbaRouting, "021000021"),
            (EntityType::UsBankAccount, "12345678")
        ]
    );
    assert!(types("routing 021000022").is_empty());
}

#[test]
fn ibans_are_cut_at_the_country_length() {
    assert_eq!(
        types("IBAN DE89 3704 0044 0532 0130 00 BIC"),
        [(EntityType::Iban, "DE89 3704 0044 0532 0130 00")]
    );
    assert_eq!(
        types("GB82WEST12345698765432"),
        [(EntityType::Iban, "GB82WEST12345698765432")]
    );
    assert!(types("GB82WEST12345698765433").is_empty());
}

#[test]
fn ip_addresses_are_parsed() {
    assert_eq!(
        types("from 203.0.113.7 at"),
        [(EntityType::IpAddress, "203.0.113.7")]
    );
    assert!(types("from 203.0.113.700").is_empty());
    assert_eq!(
        types("client 2001:db8::8a2e:370:7334"),
        [(EntityType::IpAddress, "2001:db8::8a2e:370:7334")]
    );
    assert!(types("at 12:30:45").is_empty());
}

#[test]
fn dates_are_birth_dates_only_with_birth_context() {
    assert_eq!(
        types("DOB: 04/12/1985"),
        [(EntityType::DateOfBirth, "04/12/1985")]
    );
    assert_eq!(
        types("born March 3, 1979"),
        [(EntityType::DateOfBirth, "March 3, 1979")]
    );
    assert!(types("shipped 04/12/2025").is_empty());
    assert!(types("dob 2026-03-01T12:00:00Z").is_empty());
}

#[test]
fn licences_and_passports_need_their_keyword() {
    assert_eq!(
        types("driver's license A1234567"),
        [(EntityType::UsDriverLicense, "A1234567")]
    );
    assert_eq!(
        types("passport 123456789"),
        [(EntityType::UsPassport, "123456789")]
    );
    assert!(types("SKU A1234567").is_empty());
}

#[test]
fn a_keyword_does_not_reach_past_the_next_value() {
    assert_eq!(
        types("DL# A1234567. Case 34955 closed 2023-03-23"),
        [(EntityType::UsDriverLicense, "A1234567")]
    );
    assert_eq!(
        types("Passport no. 123456789"),
        [(EntityType::UsPassport, "123456789")]
    );
    assert!(types("account_number=81248576 trace=100724853523384").len() == 1);
}

#[test]
fn international_phones_and_compact_birth_dates_need_their_field() {
    assert_eq!(
        types_in_field("+44 20 7946 0958", Hint::Phone),
        [(EntityType::Phone, "44 20 7946 0958")]
    );
    assert!(types("+44 20 7946 0958").is_empty());
    assert_eq!(
        types_in_field("19850412", Hint::Dob),
        [(EntityType::DateOfBirth, "19850412")]
    );
    assert_eq!(
        types_in_field("1985-04-12T00:00:00Z", Hint::Dob),
        [(EntityType::DateOfBirth, "1985-04-12")]
    );
    assert!(types_in_field("19851340", Hint::Dob).is_empty());
}

#[test]
fn csv_exports_use_their_header_as_field_names() {
    let csv = "customer_id,first_name,last_name,email,phone,dob,cc_cid\n\
               1001,Ana,Silva,ana@example.com,4155552671,1984-02-29,123\n\
               1002,\"O'Neil, Jr\",Kim,kim@example.com,(212) 555-0100,03/04/1990,4567\r\n";
    let got = types(csv);
    assert_eq!(
        got,
        [
            (EntityType::Person, "Ana"),
            (EntityType::Person, "Silva"),
            (EntityType::Email, "ana@example.com"),
            (EntityType::Phone, "4155552671"),
            (EntityType::DateOfBirth, "1984-02-29"),
            (EntityType::CardCvv, "123"),
            (EntityType::Person, "O'Neil, Jr"),
            (EntityType::Person, "Kim"),
            (EntityType::Email, "kim@example.com"),
            (EntityType::Phone, "(212) 555-0100"),
            (EntityType::DateOfBirth, "03/04/1990"),
            (EntityType::CardCvv, "4567"),
        ]
    );
    assert!(types("sku,price\nTS-1,19.99\n").is_empty());
    assert!(types("a,b\nnot a header").is_empty());
}

#[test]
fn held_out_set_b_shapes_are_handled() {
    assert_eq!(
        types("Kind regards,\nTeerth Rao\nMobile: (415) 555-2671"),
        [
            (EntityType::Person, "Teerth Rao"),
            (EntityType::Phone, "(415) 555-2671")
        ]
    );
    assert_eq!(
        types("POST /login?email=adam.t%40proton.me&x=1"),
        [(EntityType::Email, "adam.t%40proton.me")]
    );
    assert!(types("page=/products/savings-jar variant=30560134505459 qty=1").is_empty());
}

#[test]
fn held_out_shapes_are_handled() {
    assert_eq!(
        types(r#"{"msg":"login failed","user":"kim88","pass":"Tr0ub4dor"}"#),
        [
            (EntityType::Username, "kim88"),
            (EntityType::Password, "Tr0ub4dor")
        ]
    );
    assert_eq!(
        types("Customer: Hi, I'm Giacomo Leopardi."),
        [(EntityType::Person, "Giacomo Leopardi")]
    );
    assert!(types("gid://shopify/Customer/4111111111111").is_empty());
}

#[test]
fn a_card_shaped_tail_of_a_tracking_number_is_not_a_card() {
    assert!(types("USPS 9405 6350 3903 7966 4499 33").is_empty());
}

#[test]
fn a_licence_number_must_fit_the_named_state() {
    assert_eq!(
        types("CA driver's license A1234567"),
        [(EntityType::UsDriverLicense, "A1234567")]
    );
    assert!(types("CA driver's license 1234567890").is_empty());
    assert_eq!(
        types("TX driver license 12345678"),
        [(EntityType::UsDriverLicense, "12345678")]
    );
}

#[test]
fn tracking_numbers_and_order_ids_are_not_personal() {
    assert!(types("UPS 1Z999AA10123456784 order 1001234567 total $129.99").is_empty());
    assert!(types("order_id=1234567890 shipped 2026-03-01T10:00:00Z").is_empty());
}

#[test]
fn names_are_found_with_the_dictionary_and_titles() {
    assert_eq!(
        types("Please ship to Jennifer Lopez today"),
        [(EntityType::Person, "Jennifer Lopez")]
    );
    assert_eq!(
        types("Dear Mr. Xyzzy Plugh,"),
        [(EntityType::Person, "Xyzzy Plugh")]
    );
    assert!(types("Blue Canyon Backpack").is_empty());
    assert_eq!(types("Hi Emily, thanks"), [(EntityType::Person, "Emily")]);
}

#[test]
fn streets_need_a_suffix_and_take_the_city_line() {
    assert_eq!(
        types("ship to 8311 Jennifer Crossing Suite 511, Springfield, IL 62704 asap"),
        [(
            EntityType::StreetAddress,
            "8311 Jennifer Crossing Suite 511, Springfield, IL 62704"
        )]
    );
    assert_eq!(
        types("123 Main St"),
        [(EntityType::StreetAddress, "123 Main St")]
    );
    assert!(types("2 Blue Shirts").is_empty());
}

#[test]
fn key_value_pairs_give_usernames_and_passwords() {
    assert_eq!(
        types("login ok username=jdoe88 password=hunter2!"),
        [
            (EntityType::Username, "jdoe88"),
            (EntityType::Password, "hunter2!")
        ]
    );
    assert_eq!(
        types(r#"{"password": "s3cr3t pass"}"#),
        [(EntityType::Password, "s3cr3t pass")]
    );
    assert_eq!(
        types("first_name=Jane last_name=Doe"),
        [(EntityType::Person, "Jane"), (EntityType::Person, "Doe")]
    );
    assert!(types("password=********").is_empty());
}

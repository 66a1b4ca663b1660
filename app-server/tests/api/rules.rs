//! `leakguard rules` end to end: the real binary, JSON in the documented shape, the human
//! table, and bad input refused with exit code 2 and nothing on standard output.

use serde_json::Value;
use std::process::{Command, Output};

fn leakguard(args: &[&str]) -> Output {
    Command::new(crate::helpers::binary())
        .arg("rules")
        .args(args)
        .env_clear()
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = leakguard(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn find<'a>(all: &'a [Value], jurisdiction: &str, audience: &str) -> &'a Value {
    all.iter()
        .find(|o| o["jurisdiction"] == jurisdiction && o["audience"] == audience)
        .unwrap_or_else(|| panic!("no {jurisdiction} {audience} in {all:#?}"))
}

#[test]
fn rules_deadlines_json_has_the_documented_shape() {
    let out = json(&[
        "deadlines",
        "--discovered",
        "2026-03-02",
        "--residents",
        "CA=600,TX=300,NY=12",
        "--countries",
        "DE=10",
        "--categories",
        "US_SSN,PERSON",
        "--json",
    ]);
    let all = out["obligations"].as_array().unwrap();
    let allowed = [
        "jurisdiction",
        "audience",
        "recipient",
        "triggered",
        "due",
        "due_after",
        "basis",
        "rule_version",
    ];
    for o in all {
        for key in o.as_object().unwrap().keys() {
            assert!(
                allowed.contains(&key.as_str()),
                "unexpected key {key} in {o}"
            );
        }
        assert!(o["basis"].as_str().unwrap().contains("Why:"), "{o}");
    }
    let ca = find(all, "US-CA", "individuals");
    assert_eq!(ca["triggered"], true);
    assert_eq!(ca["due"], "2026-04-01");
    assert_eq!(ca["rule_version"], "US-CA/2026-01-01");
    assert!(ca.get("recipient").is_none());
    let ag = find(all, "US-CA", "regulator");
    assert_eq!(ag["recipient"], "California Attorney General");
    assert_eq!(
        ag["due_after"],
        serde_json::json!({"event": "individual_notice_sent", "days": 15})
    );
    assert!(ag.get("due").is_none());
    assert_eq!(find(all, "US-TX", "regulator")["due"], "2026-04-01");
    assert_eq!(find(all, "US-TX", "individuals")["due"], "2026-05-01");
    assert_eq!(find(all, "EU-GDPR", "regulator")["due"], "2026-03-04");
    assert_eq!(all[0]["jurisdiction"], "EU-GDPR", "earliest first");

    let exposure = &out["exposure"];
    assert_eq!(exposure["california_consumers"], 600);
    assert_eq!(exposure["statutory_damages"]["total_max_usd"], 600 * 799);
    assert_eq!(exposure["administrative_fines"]["total_usd"], 600 * 2663);
}

#[test]
fn rules_deadlines_compare_the_california_threshold_strictly() {
    for (residents, triggered) in [("CA=500", false), ("CA=501", true)] {
        let out = json(&[
            "deadlines",
            "--discovered",
            "2026-03-02",
            "--residents",
            residents,
            "--notice-sent",
            "2026-03-20",
            "--json",
        ]);
        let ag = find(out["obligations"].as_array().unwrap(), "US-CA", "regulator");
        assert_eq!(ag["triggered"], triggered, "{residents}: {ag}");
        if triggered {
            assert_eq!(ag["due"], "2026-04-04");
        } else {
            assert!(ag.get("due").is_none(), "{ag}");
        }
    }
}

#[test]
fn rules_deadlines_apply_the_safe_harbour_and_tolling() {
    let base = [
        "deadlines",
        "--discovered",
        "2026-03-02",
        "--residents",
        "CA=10",
        "--categories",
        "EMAIL,PASSWORD",
        "--json",
    ];
    let encrypted = json(&[&base[..], &["--encrypted"]].concat());
    assert_eq!(encrypted["obligations"][0]["triggered"], false);
    let key_taken = json(&[&base[..], &["--encrypted", "--key-compromised"]].concat());
    assert_eq!(key_taken["obligations"][0]["due"], "2026-04-01");
    let delayed = json(&[&base[..], &["--law-enforcement-delay-days", "14"]].concat());
    let ca = &delayed["obligations"][0];
    assert_eq!(ca["due"], "2026-04-15");
    assert!(
        ca["basis"]
            .as_str()
            .unwrap()
            .contains("moved from 2026-04-01 to 2026-04-15"),
        "{ca}"
    );
    let email_only = json(&[
        "deadlines",
        "--discovered",
        "2026-03-02",
        "--residents",
        "CA=10",
        "--categories",
        "EMAIL_ADDRESS",
        "--json",
    ]);
    assert_eq!(email_only["obligations"][0]["triggered"], false);
}

#[test]
fn rules_deadlines_print_a_readable_table() {
    let out = leakguard(&[
        "deadlines",
        "--discovered",
        "2025-11-20",
        "--residents",
        "CA=600,OR=3",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text
        .lines()
        .find(|l| l.starts_with("#"))
        .unwrap_or_else(|| panic!("{text}"));
    for column in [
        "DUE",
        "JURISDICTION",
        "AUDIENCE",
        "RECIPIENT",
        "OWED",
        "RULE VERSION",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(text.contains("US-CA/2022-01-01"), "pre-2026 rule: {text}");
    assert!(text.contains("no fixed date"), "{text}");
    assert!(text.contains("US-OR/unconfirmed"), "{text}");
    assert!(
        text.contains("California exposure estimate (600 consumers)"),
        "{text}"
    );
}

#[test]
fn rules_list_shows_every_rule_version() {
    let table = json(&["list", "--json"]);
    let versions: Vec<&str> = table["rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    for v in [
        "US-CA/2022-01-01",
        "US-CA/2026-01-01",
        "EU-GDPR/2018-05-25",
        "US-NY-DFS/2017-03-01",
    ] {
        assert!(versions.contains(&v), "{versions:?}");
    }
    let out = leakguard(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("30 calendar days"), "{text}");
    assert!(text.contains("UNCONFIRMED"), "{text}");
}

#[test]
fn rules_deadlines_refuse_bad_input_with_exit_code_2_and_no_output() {
    let cases: [(&[&str], &str); 8] = [
        (&["--residents", "XX=5"], "unknown US state code \"XX\""),
        (&["--residents", "CA=-5"], "must be a whole number"),
        (&["--residents", "CA=five"], "must be a whole number"),
        (
            &["--residents", "CA=5", "--countries", "US=3"],
            "unsupported country code \"US\"",
        ),
        (
            &["--residents", "CA=5", "--notice-sent", "2026-03-01"],
            "is before discovery date",
        ),
        (
            &["--residents", "CA=5", "--determined", "2026-02-01"],
            "is before discovery date",
        ),
        (
            &["--residents", "CA=5", "--categories", "US_SSN,SHOE_SIZE"],
            "unknown data category",
        ),
        (
            &["--residents", "CA=5", "--law-enforcement-delay-days", "-3"],
            "must be 0 to 3650",
        ),
    ];
    for (extra, message) in cases {
        let args = [&["deadlines", "--discovered", "2026-03-02"][..], extra].concat();
        let out = leakguard(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    for date in ["2026-02-30", "03/02/2026", "2026-3-2x"] {
        let out = leakguard(&["deadlines", "--discovered", date, "--residents", "CA=1"]);
        assert_eq!(out.status.code(), Some(2), "{date}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("expected YYYY-MM-DD"));
    }
}

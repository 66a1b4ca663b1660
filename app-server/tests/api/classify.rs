//! `leakguard classify` end to end: the real binary, standard input and a file, code point
//! offsets, a bad line answered without stopping the stream.

use std::io::Write;
use std::process::{Command, Stdio};

fn classify(input: &str, args: &[&str]) -> (String, std::process::ExitStatus) {
    let mut child = Command::new(crate::helpers::binary())
        .arg("classify")
        .args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status)
}

#[test]
fn classify_writes_one_line_per_input_with_code_point_offsets() {
    let input = concat!(
        "{\"id\": \"a\", \"text\": \"Ünïcode prefix → mail anna.lee@example.com now\"}\n",
        "{\"id\": 2, \"record\": {\"email\": \"bo@example.org\", \"password\": \"S3cret!pass\"}}\n",
        "{broken\n",
        "{\"id\": \"d\", \"text\": \"Order #100234 total $19.99 SKU TSHIRT-RED-XL\"}\n",
    );
    let (stdout, status) = classify(input, &[]);
    assert!(status.success());
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);

    let text = "Ünïcode prefix → mail anna.lee@example.com now";
    let email = lines[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "EMAIL")
        .unwrap();
    let (start, end) = (
        email["start"].as_u64().unwrap() as usize,
        email["end"].as_u64().unwrap() as usize,
    );
    let span: String = text.chars().skip(start).take(end - start).collect();
    assert_eq!(span, "anna.lee@example.com");

    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["notice_trigger"]["met"], true, "{}", lines[1]);
    assert!(lines[2]["error"]["code"].is_string());
    assert_eq!(
        lines[3]["entities"].as_array().unwrap().len(),
        0,
        "order data is not personal data: {}",
        lines[3]
    );
}

#[test]
fn classify_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    std::fs::write(
        &file,
        "{\"id\":1,\"text\":\"card 4111 1111 1111 1111 cvv 123\"}\n",
    )
    .unwrap();
    let (stdout, status) = classify("", &[file.to_str().unwrap()]);
    assert!(status.success());
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        line["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "CREDIT_CARD"),
        "{line}"
    );

    let (_, status) = classify("", &[dir.path().join("missing.jsonl").to_str().unwrap()]);
    assert!(!status.success());
}

//! Every line-based log format the agent tails (MariaDB general, slow and audit logs, Magento
//! admin-action and Monolog logs, nginx/Apache access logs): arbitrary lines never panic, and
//! every record that comes out passes the masking check, never carries a planted e-mail or
//! card number, and survives the wire unchanged.
#![no_main]

use agent::parse::{ParserOptions, parser_for};
use agent::records::Processor;
use leakguard_domain::agent_wire::SourceKind;
use leakguard_fuzz_agent::{PLANTED_CARD, PLANTED_EMAIL, assert_record_clean, leaks_planted};
use libfuzzer_sys::fuzz_target;

const KINDS: [SourceKind; 6] = [
    SourceKind::MariadbGeneral,
    SourceKind::MariadbSlow,
    SourceKind::MariadbAudit,
    SourceKind::MagentoAdmin,
    SourceKind::Monolog,
    SourceKind::Nginx,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    // The high bits plant personal data in the middle of the input, wherever the fuzzer put
    // the `\x01` marker byte; the input must not already hold the planted values.
    let planted = selector & 0x80 != 0;
    let check_planted = planted && !leaks_planted(&String::from_utf8_lossy(rest));
    let mut input = Vec::with_capacity(rest.len() + 64);
    for &byte in rest {
        if planted && byte == 0x01 {
            input.extend_from_slice(PLANTED_EMAIL.as_bytes());
            input.push(b' ');
            input.extend_from_slice(PLANTED_CARD.as_bytes());
        } else {
            input.push(byte);
        }
    }
    let options = ParserOptions {
        utc_offset_s: if selector & 0x40 != 0 { 3600 } else { 0 },
        ..ParserOptions::default()
    };
    let mut parser = parser_for(kind, &options);
    let mut out = Processor::new();
    let mut offset = 0u64;
    for line in input.split(|&b| b == b'\n') {
        parser.line(line, offset, line.len() > 200, &mut out);
        if let Some(start) = parser.pending_start() {
            assert!(
                start <= offset,
                "a pending record starts after the current line"
            );
        }
        offset += line.len() as u64 + 1;
    }
    // A restart in the middle keeps what was carried.
    let carry = parser.carry();
    let mut restarted = parser_for(kind, &options);
    restarted.restore(carry.clone());
    assert_eq!(
        restarted.carry().ts,
        carry.ts,
        "the carried timestamp is lost on restore"
    );
    parser.flush(&mut out);
    assert!(
        parser.pending_start().is_none(),
        "a record is still pending after flush"
    );
    for record in out.take_records() {
        assert_record_clean(&record);
        if check_planted {
            // Query and template ids are hashes: any digits in them are chance, not input.
            let mut value = serde_json::to_value(&record).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.remove("query_id");
                fields.remove("template_id");
            }
            let json = value.to_string();
            assert!(
                !leaks_planted(&json),
                "planted personal data left the host: {json}"
            );
        }
    }
    assert!(!out.has_records(), "records remain after take_records");
});

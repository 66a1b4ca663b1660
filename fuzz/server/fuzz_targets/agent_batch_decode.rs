//! Agent batch upload bodies as the server reads them: the capped zstd decoder and the batch
//! JSON. Decoded output never exceeds the cap whatever the frame claims; what the agent
//! compresses decodes to the same bytes; a batch that parses re-serialises to the same batch.
#![no_main]

use app_server::ingest::batches::decode;
use leakguard_domain::agent_wire::Batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let cap = usize::from(selector) * 64;

    // The body as received with `Content-Encoding: zstd`.
    if let Ok(out) = decode(rest, Some("zstd"), cap) {
        assert!(
            out.len() <= cap,
            "decoded {} bytes past the cap of {cap}",
            out.len()
        );
        parse_batch(&out);
    }
    // The body as the agent would send it.
    let compressed = zstd::encode_all(rest, 1).unwrap_or_default();
    match decode(&compressed, Some(" ZSTD "), cap) {
        Ok(out) => assert_eq!(out, rest, "a frame decoded to other bytes"),
        Err(_) => assert!(rest.len() > cap, "a frame within the cap was refused"),
    }
    assert_eq!(
        decode(rest, None, cap).ok().as_deref(),
        Some(rest),
        "identity changed the body"
    );
    assert!(
        decode(rest, Some("gzip"), cap).is_err(),
        "an unsupported encoding was accepted"
    );
    parse_batch(rest);
});

fn parse_batch(json: &[u8]) {
    if let Ok(batch) = serde_json::from_slice::<Batch>(json) {
        let again = serde_json::to_vec(&batch).unwrap_or_default();
        match serde_json::from_slice::<Batch>(&again) {
            Ok(back) => assert_eq!(back, batch, "a batch changed on a round trip"),
            Err(e) => panic!("a parsed batch does not re-parse: {e}"),
        }
    }
}

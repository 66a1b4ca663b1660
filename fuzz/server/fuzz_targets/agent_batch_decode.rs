//! Agent batch upload bodies as the server reads them: one streaming pass of the capped zstd
//! decoder into the batch parser (`ingest::decode::decode_upload`). A body never decodes past
//! the cap whatever the frame claims, nor into more than `MAX_RECORDS` records; what the agent
//! compresses decodes exactly as the same body sent uncompressed; an accepted batch
//! re-serialises to the same batch; an unsupported encoding is refused.
#![no_main]

use app_server::ingest::IngestError;
use app_server::ingest::decode::{MAX_RECORDS, Upload, decode_upload};
use leakguard_domain::agent_wire::Batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let cap = usize::from(selector) * 64;

    // The body as received with `Content-Encoding: zstd`.
    if let Ok(upload) = decode_upload(rest, Some("zstd"), cap) {
        check_upload(&upload);
    }

    // The body as sent uncompressed, and as the agent would compress it.
    let plain = decode_upload(rest, None, cap);
    if let Ok(upload) = &plain {
        check_upload(upload);
    }
    let compressed = zstd::encode_all(rest, 1).unwrap_or_default();
    let zstd = decode_upload(&compressed, Some(" ZSTD "), cap);
    if rest.len() > cap {
        assert!(
            matches!(plain, Err(IngestError::TooLarge(_))),
            "a plain body past the cap was not refused as too large"
        );
        assert!(zstd.is_err(), "a frame decoding past the cap was accepted");
    } else {
        match (&plain, &zstd) {
            (Ok(a), Ok(b)) => assert_eq!(a.batch, b.batch, "a frame decoded to another batch"),
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "a frame was refused for another reason than the plain body ({a} / {b})"
            ),
            _ => panic!(
                "a frame and the plain body disagree: plain ok {}, zstd ok {}",
                plain.is_ok(),
                zstd.is_ok()
            ),
        }
    }
    assert!(
        matches!(
            decode_upload(rest, Some("gzip"), cap),
            Err(IngestError::UnsupportedEncoding(_))
        ),
        "an unsupported encoding was accepted"
    );
});

fn check_upload(upload: &Upload) {
    let batch = &upload.batch;
    assert!(
        batch.records.len() <= MAX_RECORDS,
        "{} records passed the cap",
        batch.records.len()
    );
    let again = serde_json::to_vec(batch).unwrap_or_default();
    match serde_json::from_slice::<Batch>(&again) {
        Ok(back) => assert_eq!(&back, batch, "a batch changed on a round trip"),
        Err(e) => panic!("a decoded batch does not re-parse: {e}"),
    }
}

//! Decoding an agent batch body in one streaming pass: zstd (one frame, window capped) into
//! the JSON parser, with the decompressed size and the record count checked while reading, so
//! a small hostile body can neither expand past `max_decompressed` bytes nor build more than
//! [`MAX_RECORDS`] records before it is refused. Runs on the blocking pool (the caller's
//! business); holds no buffer of the decompressed text.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use leakguard_domain::agent_wire::{Batch, Record, SourceRef};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::IngestError;

/// Most records in one batch. The agent aggregates statements of one shape per principal and
/// minute and closes a batch after 4 MiB of log input; a shop's log holds far fewer shapes than
/// this per batch.
pub const MAX_RECORDS: usize = 10_000;
/// Largest zstd window accepted (2^23 = 8 MiB), which bounds the decoder's memory.
const WINDOW_LOG_MAX: u32 = 23;
/// Marks the parser error raised at the record cap (recognised below, never shown).
const TOO_MANY_RECORDS: &str = "leakguard: too many records";

/// What an agent's upload carries: the batch and its optional figures.
pub struct Upload {
    /// The batch.
    pub batch: Batch,
    /// The agent's spool, when it reported it.
    pub spool: Option<Spool>,
}

/// The agent's spool as reported with a batch.
#[derive(Deserialize, Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spool {
    /// Bytes waiting on the host.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Batches waiting on the host.
    #[serde(default)]
    pub batches: Option<u64>,
}

/// The wire shape of an upload: [`Batch`]'s fields plus the extras, read in one pass.
#[derive(Deserialize)]
struct Wire {
    schema: u32,
    agent_id: String,
    batch_id: String,
    source: SourceRef,
    start_offset: u64,
    end_offset: u64,
    lines: u64,
    #[serde(deserialize_with = "bounded_records")]
    records: Vec<Record>,
    #[serde(default)]
    spool: Option<Spool>,
}

fn bounded_records<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Record>, D::Error> {
    struct Bounded;
    impl<'de> Visitor<'de> for Bounded {
        type Value = Vec<Record>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(record) = seq.next_element::<Record>()? {
                if out.len() == MAX_RECORDS {
                    return Err(de::Error::custom(TOO_MANY_RECORDS));
                }
                out.push(record);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded)
}

/// A reader that refuses to give more than `cap` bytes and remembers that it did.
struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more than the cap means the input is larger: say so instead of EOF.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded.set(true);
                    Err(io::Error::other("decompressed size cap"))
                }
            };
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Decodes and parses a batch body by its `Content-Encoding` (`zstd`, or none).
pub fn decode_upload(
    body: &[u8],
    content_encoding: Option<&str>,
    max_decompressed: usize,
) -> Result<Upload, IngestError> {
    let exceeded = Rc::new(Cell::new(false));
    let cap = u64::try_from(max_decompressed).unwrap_or(u64::MAX);
    let parsed = match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => {
            if body.len() > max_decompressed {
                return Err(too_large(max_decompressed));
            }
            serde_json::from_slice::<Wire>(body)
        }
        Some(e) if e.eq_ignore_ascii_case("zstd") => {
            let bad = |_| IngestError::Invalid("the body is not a valid zstd frame".into());
            let mut decoder = zstd::stream::read::Decoder::with_buffer(body)
                .map_err(bad)?
                .single_frame();
            decoder.window_log_max(WINDOW_LOG_MAX).map_err(bad)?;
            let capped = Capped {
                inner: decoder,
                left: cap,
                exceeded: exceeded.clone(),
            };
            serde_json::from_reader::<_, Wire>(BufReader::with_capacity(64 * 1024, capped))
        }
        Some(_) => {
            return Err(IngestError::UnsupportedEncoding(
                "Content-Encoding must be zstd".into(),
            ));
        }
    };
    let wire = parsed.map_err(|e| {
        if exceeded.get() {
            too_large(max_decompressed)
        } else if e.to_string().contains(TOO_MANY_RECORDS) {
            IngestError::TooLarge(format!("at most {MAX_RECORDS} records per batch"))
        } else if e.is_io() {
            IngestError::Invalid("the body is not a valid zstd frame".into())
        } else {
            IngestError::Invalid(crate::magento::json_error("invalid batch", &e))
        }
    })?;
    Ok(Upload {
        batch: Batch {
            schema: wire.schema,
            agent_id: wire.agent_id,
            batch_id: wire.batch_id,
            source: wire.source,
            start_offset: wire.start_offset,
            end_offset: wire.end_offset,
            lines: wire.lines,
            records: wire.records,
        },
        spool: wire.spool,
    })
}

fn too_large(max: usize) -> IngestError {
    IngestError::TooLarge(format!(
        "the batch is larger than {max} bytes when decompressed"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use leakguard_domain::agent_wire::SCHEMA_VERSION;

    fn batch_json(records: usize) -> Vec<u8> {
        let record = serde_json::json!({"type": "app_log_aggregate", "minute": "2026-12-05T10:00:00Z",
            "channel": "main", "level": "info", "template_id": "0123456789ABCDEF", "template": "cron ran", "count": 1});
        serde_json::to_vec(&serde_json::json!({
            "schema": SCHEMA_VERSION, "agent_id": uuid::Uuid::nil().to_string(), "batch_id": "b",
            "source": {"file_id": "1:2:0011223344556677", "path": "/var/log/x", "kind": "monolog"},
            "start_offset": 0, "end_offset": 10, "lines": 1,
            "records": vec![record; records],
            "spool": {"bytes": 5, "batches": 1},
        }))
        .unwrap()
    }

    #[test]
    fn a_batch_and_its_spool_come_out_of_one_pass() {
        let json = batch_json(3);
        let upload = decode_upload(&json, None, 1 << 20).unwrap();
        assert_eq!(upload.batch.records.len(), 3);
        assert_eq!(
            upload.spool,
            Some(Spool {
                bytes: Some(5),
                batches: Some(1)
            })
        );
        let zstd = zstd::encode_all(&json[..], 3).unwrap();
        let again = decode_upload(&zstd, Some("zstd"), 1 << 20).unwrap();
        assert_eq!(again.batch, upload.batch);
    }

    #[test]
    fn a_zstd_bomb_stops_at_the_cap() {
        let mut plain = b"{\"schema\":1,\"agent_id\":\"".to_vec();
        plain.extend(std::iter::repeat_n(b'a', 8 * 1024 * 1024));
        let bomb = zstd::encode_all(&plain[..], 19).unwrap();
        assert!(bomb.len() < 4096, "{}", bomb.len());
        assert!(matches!(
            decode_upload(&bomb, Some("zstd"), 1024 * 1024),
            Err(IngestError::TooLarge(_))
        ));
        let exact = zstd::encode_all(&batch_json(1)[..], 3).unwrap();
        let len = batch_json(1).len();
        assert!(decode_upload(&exact, Some("zstd"), len).is_ok());
        assert!(matches!(
            decode_upload(&exact, Some("zstd"), len - 1),
            Err(IngestError::TooLarge(_))
        ));
    }

    #[test]
    fn the_record_cap_stops_the_parse() {
        let json = batch_json(MAX_RECORDS + 1);
        let zstd = zstd::encode_all(&json[..], 3).unwrap();
        match decode_upload(&zstd, Some("zstd"), 64 << 20) {
            Err(IngestError::TooLarge(m)) => assert!(m.contains("records"), "{m}"),
            other => panic!("{:?}", other.map(|u| u.batch.records.len())),
        }
        assert_eq!(
            decode_upload(&batch_json(MAX_RECORDS), None, 64 << 20)
                .unwrap()
                .batch
                .records
                .len(),
            MAX_RECORDS
        );
    }

    #[test]
    fn bad_bodies_are_refused_with_their_cause() {
        assert!(matches!(
            decode_upload(b"not zstd", Some("zstd"), 1024),
            Err(IngestError::Invalid(_))
        ));
        assert!(matches!(
            decode_upload(b"{}", Some("gzip"), 1024),
            Err(IngestError::UnsupportedEncoding(_))
        ));
        assert!(matches!(
            decode_upload(b"{\"schema\": 1}", None, 1024),
            Err(IngestError::Invalid(_))
        ));
        assert!(matches!(
            decode_upload(&batch_json(1), None, 10),
            Err(IngestError::TooLarge(_))
        ));
    }
}

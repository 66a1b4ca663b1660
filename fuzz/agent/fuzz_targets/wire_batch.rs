//! The agent wire format as the server reads it: a batch, an enrollment request, a bearer
//! token. Whatever parses re-serialises to JSON that parses to the same value, and a bearer
//! token splits back into what built it.
#![no_main]

use leakguard_domain::agent_wire::{self, Batch, EnrollRequest, Record};
use libfuzzer_sys::fuzz_target;

fn round_trips<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(value).unwrap_or_default();
    match serde_json::from_slice::<T>(&json) {
        Ok(back) => assert_eq!(&back, value, "the value changed on a round trip"),
        Err(e) => panic!("a parsed value does not re-parse: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = serde_json::from_slice::<Batch>(data) {
        round_trips(&batch);
        let key = batch.dedup_key();
        assert_eq!(
            key,
            agent_wire::dedup_key(&batch.agent_id, &batch.source.file_id, batch.start_offset),
            "the dedup key depends on more than agent, file and offset"
        );
    }
    if let Ok(record) = serde_json::from_slice::<Record>(data) {
        round_trips(&record);
    }
    if let Ok(request) = serde_json::from_slice::<EnrollRequest>(data) {
        round_trips(&request);
    }
    let text = String::from_utf8_lossy(data);
    if let Some((agent_id, credential)) = agent_wire::split_bearer_token(&text) {
        assert!(!agent_id.is_empty() && !credential.is_empty());
        assert!(!agent_id.contains('.'), "the agent id holds the separator");
        assert_eq!(
            agent_wire::bearer_token(agent_id, credential),
            text,
            "split and join disagree"
        );
    }
});

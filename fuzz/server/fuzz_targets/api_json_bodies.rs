//! JSON request bodies of the API and of signed module and webhook requests: arbitrary bytes
//! never panic the deserialisers; policies that validate stay valid through a round trip;
//! payment fields are gone from a webhook payload at every depth.
#![no_main]

use app_server::http::routes::permissions::{ReviewBody, ScheduleBody};
use app_server::http::routes::users::NewUser;
use app_server::magento::auth::EnrollRequest as ModuleEnrollRequest;
use app_server::shopify::webhooks::{DROPPED_KEYS, strip_payment_fields};
use leakguard_domain::agent_wire::EnrollRequest as AgentEnrollRequest;
use leakguard_domain::{permissions, retention};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn has_payment_field(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| DROPPED_KEYS.contains(&k.as_str()) || has_payment_field(v)),
        Value::Array(items) => items.iter().any(has_payment_field),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<NewUser>(data);
    let _ = serde_json::from_slice::<ReviewBody>(data);
    let _ = serde_json::from_slice::<ScheduleBody>(data);
    let _ = serde_json::from_slice::<ModuleEnrollRequest>(data);
    let _ = serde_json::from_slice::<AgentEnrollRequest>(data);
    if let Ok(policy) = serde_json::from_slice::<permissions::Policy>(data) {
        let json = serde_json::to_vec(&policy).unwrap_or_default();
        assert_eq!(
            serde_json::from_slice::<permissions::Policy>(&json).ok(),
            Some(policy)
        );
    }
    if let Ok(policy) = serde_json::from_slice::<retention::Policy>(data)
        && let Ok(valid) = policy.validate()
    {
        let json = serde_json::to_vec(&valid).unwrap_or_default();
        let back =
            serde_json::from_slice::<retention::Policy>(&json).map(retention::Policy::validate);
        assert!(
            matches!(back, Ok(Ok(ref p)) if *p == valid),
            "a valid policy changed on a round trip"
        );
        let _ = valid.to_module_json();
    }
    if let Ok(mut payload) = serde_json::from_slice::<Value>(data) {
        strip_payment_fields(&mut payload);
        assert!(
            !has_payment_field(&payload),
            "a payment field survived: {payload}"
        );
    }
});

//! The Magento module's admin-action JSON-lines log: every line a security event, details masked.

use leakguard_domain::agent_wire::{Principal, SecurityEvent, SecurityEventKind};
use serde::Deserialize;

use super::{Carry, LineParser};
use crate::records::{Processor, detail_key, mask_detail, safe_token};
use crate::timefmt;

/// The Magento module's admin-action JSON-lines log.
#[derive(Default)]
pub struct AdminLog {
    carry: Carry,
}

/// One line of the admin-action log, as the Magento module writes it.
#[derive(Debug, Deserialize)]
struct AdminLine {
    ts: Option<serde_json::Value>,
    admin_user_id: Option<serde_json::Value>,
    admin_username: Option<String>,
    ip: Option<String>,
    forwarded_ip: Option<String>,
    #[allow(dead_code)]
    action: Option<String>,
    event: String,
    entity_type: Option<String>,
    #[serde(default)]
    entity_ids: Vec<serde_json::Value>,
    count: Option<u64>,
    result: Option<String>,
    request_id: Option<String>,
    #[serde(default)]
    details: serde_json::Map<String, serde_json::Value>,
}

pub(super) fn ip_token(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    (!value.is_empty()
        && value.len() <= 45
        && value
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'))
    .then(|| value.to_owned())
}

impl LineParser for AdminLog {
    fn line(&mut self, line: &[u8], _offset: u64, _truncated: bool, out: &mut Processor) {
        let Ok(parsed) = serde_json::from_slice::<AdminLine>(line.trim_ascii()) else {
            return;
        };
        let kind = match parsed.event.as_str() {
            "admin_login_success" => SecurityEventKind::AdminLoginSuccess,
            "admin_login_failure" => SecurityEventKind::AdminLoginFailure,
            "logout" => SecurityEventKind::AdminLogout,
            "record_view" => SecurityEventKind::AdminRecordView,
            "grid_export" => SecurityEventKind::AdminGridExport,
            "data_transfer_export" => SecurityEventKind::AdminDataTransferExport,
            "export_download" => SecurityEventKind::AdminExportDownload,
            "report_export" => SecurityEventKind::AdminReportExport,
            "mass_action" => SecurityEventKind::AdminMassAction,
            "admin_user_change" => SecurityEventKind::AdminUserChange,
            "role_change" => SecurityEventKind::AdminRoleChange,
            "integration_change" => SecurityEventKind::IntegrationChange,
            "config_change" => SecurityEventKind::ConfigChange,
            _ => return,
        };
        let ts = match &parsed.ts {
            Some(serde_json::Value::String(text)) => timefmt::parse_iso(text.as_bytes(), 0),
            Some(serde_json::Value::Number(number)) => number.as_i64(),
            _ => None,
        };
        if ts.is_some() {
            self.carry.ts = ts;
        }
        let admin_user_id = match &parsed.admin_user_id {
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(serde_json::Value::String(text))
                if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() =>
            {
                Some(text.clone())
            }
            _ => None,
        };
        // A failed login's "username" is whatever was typed (an e-mail, a customer's name, a
        // password typed into the wrong box): it is kept only when the module matched it to an
        // existing admin account (`admin_user_id` set), and only as a clean login name.
        let typed_only = admin_user_id.is_none() && kind == SecurityEventKind::AdminLoginFailure;
        let admin_username = parsed
            .admin_username
            .as_deref()
            .filter(|_| !typed_only)
            .filter(|name| crate::sql::passes_mask(name.as_bytes()) && !name.contains('@'))
            .map(|name| safe_token(name, 40))
            .filter(|name| name != "?");
        let entity_ids = parsed
            .entity_ids
            .iter()
            .filter_map(|id| match id {
                serde_json::Value::Number(number)
                    if number.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)) =>
                {
                    Some(number.to_string())
                }
                serde_json::Value::String(text)
                    if !text.is_empty()
                        && text.len() <= 10
                        && text.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Some(text.clone())
                }
                _ => None,
            })
            .take(1000)
            .collect();
        let details = parsed
            .details
            .iter()
            .take(50)
            .map(|(key, value)| (detail_key(key), mask_detail(key, value)))
            .collect();
        out.security_event(SecurityEvent {
            kind,
            ts: ts.or(self.carry.ts).map(timefmt::rfc3339),
            principal: Principal {
                admin_user_id,
                admin_username,
                ..Principal::default()
            },
            ip: ip_token(parsed.ip.as_deref()),
            forwarded_ip: ip_token(parsed.forwarded_ip.as_deref()),
            query_id: None,
            fingerprint: None,
            tables: Vec::new(),
            entity_type: parsed.entity_type.as_deref().map(|t| safe_token(t, 64)),
            entity_ids,
            count: parsed.count,
            result: parsed.result.as_deref().map(|r| safe_token(r, 16)),
            request_id: parsed.request_id.as_deref().map(|r| safe_token(r, 64)),
            details,
        });
    }

    fn flush(&mut self, _out: &mut Processor) {}

    fn pending_start(&self) -> Option<u64> {
        None
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

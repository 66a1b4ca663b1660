//! sqlcommenter attributes written by the Magento module (`/*lg_admin='12',…*/`): parsed,
//! url-decoded and validated; a value that fails validation is dropped, never passed on.

use super::bytes::{FIND_COMMENT_CLOSE, FIND_LG};

/// Attributes of a sqlcommenter comment written by the Magento module:
/// `/*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc'*/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentAttributes {
    /// `lg_admin`: `admin_user.user_id` (digits only).
    pub admin_user_id: Option<String>,
    /// `lg_integration`: integration id (digits only).
    pub integration_id: Option<String>,
    /// `lg_route`: full action name or REST route (`[A-Za-z0-9_./:-]`, ≤ 128 bytes).
    pub route: Option<String>,
    /// `lg_req`: request id (`[A-Za-z0-9_-]`, ≤ 64 bytes).
    pub request_id: Option<String>,
}

impl CommentAttributes {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.admin_user_id.is_none()
            && self.integration_id.is_none()
            && self.route.is_none()
            && self.request_id.is_none()
    }
}

/// Parses the first `/*lg_…*/` comment in `query`. Values are url-decoded and validated;
/// invalid values are dropped (they could carry anything).
pub fn comment_attributes(query: &[u8]) -> CommentAttributes {
    let mut attributes = CommentAttributes::default();
    let Some(start) = FIND_LG.find(query) else {
        return attributes;
    };
    let body_start = start + 2;
    let Some(len) = FIND_COMMENT_CLOSE.find(&query[body_start..]) else {
        return attributes;
    };
    let body = &query[body_start..body_start + len];
    let mut i = 0;
    while i < body.len() {
        let key_start = i;
        while i < body.len() && body[i] != b'=' {
            i += 1;
        }
        let key = body[key_start..i].trim_ascii();
        i += 1;
        if body.get(i) != Some(&b'\'') {
            break;
        }
        i += 1;
        let value_start = i;
        while i < body.len() && body[i] != b'\'' {
            i += 1;
        }
        let raw_value = &body[value_start..i.min(body.len())];
        i += 1;
        while i < body.len() && (body[i] == b',' || body[i] == b' ') {
            i += 1;
        }
        let value = url_decode(raw_value);
        match key {
            b"lg_admin" if is_id(&value, 20) => attributes.admin_user_id = Some(value),
            b"lg_integration" if is_id(&value, 20) => attributes.integration_id = Some(value),
            b"lg_route" if is_token(&value, 128, b"_./:-") => attributes.route = Some(value),
            b"lg_req" if is_token(&value, 64, b"_-") => attributes.request_id = Some(value),
            _ => {}
        }
    }
    attributes
}

fn url_decode(raw: &[u8]) -> String {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                decoded.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        decoded.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn is_id(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_token(value: &str, max: usize, extra: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

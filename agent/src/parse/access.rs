//! nginx/Apache `combined` access logs: admin and REST requests only, as masked route shapes.

use super::admin::ip_token;
use super::{Carry, LineParser, ParserOptions};
use crate::records::{HttpRequest, Processor, safe_token};
use crate::timefmt;

/// nginx/Apache `combined` access log: admin and REST requests only.
pub struct AccessLog {
    admin_paths: Vec<String>,
    carry: Carry,
}

impl AccessLog {
    pub(super) fn new(options: &ParserOptions) -> Self {
        Self {
            admin_paths: options.admin_paths.clone(),
            carry: Carry::default(),
        }
    }
}

/// Path with ids, keys and anything number-like replaced by `?`.
pub fn mask_route(path: &str) -> String {
    let mut route = String::with_capacity(path.len());
    let mut previous = "";
    for (index, segment) in path.split('/').enumerate() {
        if index > 0 {
            route.push('/');
        }
        let masked = !segment.is_empty()
            && (segment.bytes().any(|b| b.is_ascii_digit())
                || segment.len() > 40
                || matches!(previous, "key" | "id" | "form_key" | "filename" | "file")
                || !segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                || segment.contains('@'));
        if masked {
            route.push('?');
        } else {
            route.push_str(segment);
        }
        previous = segment;
    }
    route
}

fn page_size(query: &str) -> Option<u64> {
    let mut largest = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=')?;
        let name = name.replace("%5B", "[").replace("%5D", "]");
        let is_page_size = name.ends_with("pageSize]")
            || name == "pageSize"
            || name == "limit"
            || name.ends_with("[limit]");
        if is_page_size && let Ok(size) = value.parse::<u64>() {
            largest = Some(largest.map_or(size, |l: u64| l.max(size)));
        }
    }
    largest
}

fn is_sensitive_route(route: &str) -> bool {
    const MARKERS: &[&str] = &[
        "/mui/export/",
        "/export/export",
        "/export/",
        "exportcsv",
        "exportxml",
        "exportexcel",
        "/integration/admin/token",
        "/integration/customer/token",
        "/backup/",
        "/download",
    ];
    let lower = route.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

impl LineParser for AccessLog {
    fn line(&mut self, line: &[u8], _offset: u64, _truncated: bool, out: &mut Processor) {
        let parsed = (|| {
            let text = std::str::from_utf8(line).ok()?;
            let (ip, rest) = text.split_once(' ')?;
            let open = rest.find('[')?;
            let close = rest[open..].find(']')? + open;
            let ts = timefmt::parse_clf(&rest.as_bytes()[open + 1..close]);
            let rest = &rest[close + 1..];
            let quote = rest.find('"')?;
            let request_end = rest[quote + 1..].find('"')? + quote + 1;
            let request = &rest[quote + 1..request_end];
            let mut parts = request.split(' ');
            let method = parts.next()?;
            let target = parts.next()?;
            let mut after = rest[request_end + 1..].split_whitespace();
            let status: u16 = after.next()?.parse().ok()?;
            let bytes: u64 = after.next().and_then(|b| b.parse().ok()).unwrap_or(0);
            Some((ip, ts, method, target, status, bytes))
        })();
        let Some((ip, ts, method, target, status, bytes)) = parsed else {
            return;
        };
        if ts.is_some() {
            self.carry.ts = ts;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let path = path.strip_prefix("/index.php").unwrap_or(path);
        let area = if self.admin_paths.iter().any(|prefix| {
            path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
        }) {
            "admin"
        } else if path.starts_with("/rest/") || path.starts_with("/soap/") {
            "rest"
        } else {
            return;
        };
        let route = mask_route(path);
        let route = if crate::sql::passes_mask(route.as_bytes()) {
            route
        } else {
            "?".to_owned()
        };
        out.http_request(HttpRequest {
            ts,
            area,
            method: safe_token(method, 10),
            sensitive: is_sensitive_route(&route),
            route,
            ip: ip_token(Some(ip)).unwrap_or_else(|| "?".to_owned()),
            status,
            bytes,
            page_size: page_size(query),
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

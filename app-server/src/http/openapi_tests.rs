//! The document against the routes: both directions, from the registration source and from
//! actix's own router.

use std::collections::BTreeSet;

use actix_web::{App, HttpResponse, test as actix_test, web};

use super::*;

/// `(METHOD, path)` pairs.
type Operations = BTreeSet<(String, String)>;

/// Every route registered in `routes/mod.rs`, with its scope prefix, read from the source.
fn registered_routes() -> Operations {
    let source: String = include_str!("routes/mod.rs").split_whitespace().collect();
    let bytes = source.as_bytes();
    let mut routes = Operations::new();
    // Open scopes: (prefix, paren depth inside `.service(`).
    let mut scopes: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if let Some(after) = rest.strip_prefix(".service(web::scope(\"") {
            depth += 1;
            let prefix = after.split('"').next().unwrap_or_default();
            scopes.push((prefix.to_owned(), depth));
            i += ".service(web::scope(\"".len() + prefix.len();
            depth += 1; // the `(` of `web::scope(`
            continue;
        }
        if let Some(after) = rest.strip_prefix(".route(\"") {
            let mut parts = after.splitn(2, '"');
            let path = parts.next().unwrap_or_default();
            let call = parts.next().unwrap_or_default();
            let method = call
                .strip_prefix(",web::")
                .and_then(|m| m.split('(').next())
                .unwrap_or_else(|| panic!("route {path}: no web::<method>() after the path"));
            let prefix: String = scopes.iter().map(|(p, _)| p.as_str()).collect();
            routes.insert((method.to_uppercase(), format!("{prefix}{path}")));
        }
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                while scopes.last().is_some_and(|(_, d)| depth < *d) {
                    scopes.pop();
                }
            }
            _ => {}
        }
        i += 1;
    }
    routes
}

fn documented_operations() -> Operations {
    let doc = document();
    let mut operations = Operations::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if operation.is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

fn api_routes() -> Operations {
    registered_routes()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .collect()
}

#[test]
fn the_route_reader_sees_scopes_and_methods() {
    let routes = registered_routes();
    assert!(routes.contains(&("GET".into(), "/healthz".into())));
    assert!(routes.contains(&("PUT".into(), "/api/v1/retention/policy".into())));
    assert!(routes.contains(&("GET".into(), "/api/v1/retention/policy".into())));
    assert!(routes.contains(&("POST".into(), "/console/login".into())));
    assert!(!routes.contains(&("GET".into(), "/api/v1/console/login".into())));
    assert!(
        api_routes().len() >= 45,
        "{} api routes",
        api_routes().len()
    );
}

#[test]
fn every_registered_api_route_is_documented_and_every_documented_operation_is_registered() {
    let registered = api_routes();
    let documented = documented_operations();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes without a documented operation (add #[utoipa::path] and list it in ApiDoc): {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented operations that are not routed: {unrouted:?}"
    );
}

/// Fills path parameters with values the extractors accept.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0190a5f0-0000-7000-8000-000000000000")
        .replace("{seq}", "1")
        .replace("{customerGid}", "1")
}

#[actix_web::test]
async fn actix_routes_every_documented_operation_and_nothing_else_under_the_api() {
    const UNROUTED: u16 = 418;
    let app = actix_test::init_service(
        App::new()
            .configure(routes::configure)
            .default_service(web::to(|| async { HttpResponse::ImATeapot().finish() })),
    )
    .await;
    for (method, path) in documented_operations() {
        let request = actix_test::TestRequest::default()
            .method(method.parse().expect("a method"))
            .uri(&concrete(&path))
            .to_request();
        let status = actix_test::call_service(&app, request)
            .await
            .status()
            .as_u16();
        assert!(
            status != UNROUTED && status != 405,
            "{method} {path} is documented but actix does not route it ({status})"
        );
    }
    // The probe can fail: an undocumented path and a wrong method are not routed.
    for (method, path) in [
        ("GET", "/api/v1/no-such-thing"),
        ("DELETE", "/api/v1/tenant"),
    ] {
        let request = actix_test::TestRequest::default()
            .method(method.parse().expect("a method"))
            .uri(path)
            .to_request();
        let status = actix_test::call_service(&app, request)
            .await
            .status()
            .as_u16();
        assert!(
            status == UNROUTED || status == 405,
            "{method} {path}: {status}"
        );
    }
}

#[test]
fn the_document_is_openapi_3_1_with_the_error_catalogue_and_security_schemes() {
    let json: serde_json::Value = serde_json::from_slice(json()).expect("the document is JSON");
    assert_eq!(json["openapi"], "3.1.0");
    let codes: Vec<&str> = json["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
        .as_array()
        .expect("error codes")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(codes.contains(&"invalid_request") && codes.contains(&"csrf_failed"));
    for code in [
        "cross_site_request",
        "webhook_mismatch",
        "webhook_stale",
        "user_deactivated",
        "api_key_expired",
        "api_key_revoked",
        "owner_required",
        "last_owner",
        "tenant_read_only",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert_eq!(codes.len(), catalogue().len());
    for scheme in [
        "api_key",
        "shopify_session",
        "console_session",
        "agent_credential",
        "magento_signature",
    ] {
        assert!(
            json["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
}

#[test]
fn every_operation_documents_its_errors_and_a_success() {
    let doc = document();
    for (path, item) in &doc.paths.paths {
        for operation in [&item.get, &item.put, &item.post, &item.patch]
            .into_iter()
            .flatten()
        {
            let statuses: Vec<&String> = operation.responses.responses.keys().collect();
            assert!(
                statuses.iter().any(|s| s.starts_with('2')),
                "{path}: no success response"
            );
            for status in ["400", "500"] {
                assert!(
                    operation.responses.responses.contains_key(status),
                    "{path}: no {status}"
                );
            }
            if path.contains('{') {
                assert!(
                    operation.responses.responses.contains_key("404"),
                    "{path}: no 404"
                );
            }
            if operation.request_body.is_some() {
                for status in ["413", "415"] {
                    assert!(
                        operation.responses.responses.contains_key(status),
                        "{path}: takes a body but documents no {status}"
                    );
                }
            }
        }
    }
    let tenant = doc.paths.paths["/api/v1/tenant"].get.as_ref().unwrap();
    assert!(tenant.responses.responses.contains_key("401"));
    let enroll = doc.paths.paths["/api/v1/agent/enroll"]
        .post
        .as_ref()
        .unwrap();
    assert!(
        !enroll.responses.responses.contains_key("404"),
        "no path parameter, no 404"
    );
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = BTreeSet::new();
    for item in doc.paths.paths.values() {
        for operation in [&item.get, &item.put, &item.post, &item.patch]
            .into_iter()
            .flatten()
        {
            let id = operation.operation_id.clone().expect("an operation id");
            assert!(seen.insert(id.clone()), "operation id {id} twice");
        }
    }
    assert!(seen.contains("users_get") && seen.contains("agents_get"));
}

#[test]
fn times_are_documented_as_rfc3339_strings() {
    let json: serde_json::Value = serde_json::from_slice(json()).unwrap();
    let created = &json["components"]["schemas"]["TenantView"]["properties"]["created_at"];
    assert_eq!(created["type"], "string", "{created}");
    assert_eq!(created["format"], "date-time", "{created}");
    let schemas = &json["components"]["schemas"];
    for (schema, field) in [
        ("ApiKeyView", "created_at"),
        ("ApiKeyView", "expires_at"),
        ("ApiKeyView", "last_used_at"),
        ("ApiKeyView", "revoked_at"),
        ("UserView", "created_at"),
        ("UserView", "deactivated_at"),
    ] {
        let property = &schema_of(schemas, schema)["properties"][field];
        assert_eq!(
            property["format"], "date-time",
            "{schema}.{field}: {property}"
        );
        let types = &property["type"];
        assert!(
            types == "string"
                || types
                    .as_array()
                    .is_some_and(|t| t.contains(&"string".into())),
            "{schema}.{field}: {property}"
        );
    }
}

fn schema_of<'a>(schemas: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let schema = &schemas[name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// utoipa keys components by name, so two `ToSchema` types of one name silently overwrite each
/// other and the document describes one type's values with the other's schema.
#[test]
fn schema_component_names_are_unique_across_the_crates() {
    let derive = regex::Regex::new(
        r"#\[derive\(([^)]*)\)\]((?:\s*#\[[^\]]*\]|\s*///[^\n]*)*)\s*pub(?:\([^)]*\))?\s+(?:enum|struct)\s+(\w+)",
    )
    .unwrap();
    let alias = regex::Regex::new(r"#\[schema\([^)]*\bas\s*=\s*(\w+)").unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut stack = vec![root.join("app-server/src"), root.join("domain/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for found in derive.captures_iter(&text) {
                if !found[1].contains("ToSchema") {
                    continue;
                }
                let name = alias
                    .captures(&found[2])
                    .map_or_else(|| found[3].to_owned(), |a| a[1].to_owned());
                names
                    .entry(name)
                    .or_default()
                    .push(path.display().to_string());
            }
        }
    }
    assert!(names.len() > 40, "the scan found {} schemas", names.len());
    let repeated: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(repeated.is_empty(), "schema names used twice: {repeated:?}");
}

#[test]
fn the_stored_states_have_their_own_schemas() {
    let json: serde_json::Value = serde_json::from_slice(json()).unwrap();
    let schemas = &json["components"]["schemas"];
    let tenant_status = schema_of(schemas, "TenantStatus");
    assert!(
        tenant_status["enum"]
            .as_array()
            .unwrap()
            .contains(&"active".into()),
        "{tenant_status}"
    );
    let run_status = schema_of(schemas, "PermissionAuditRunStatus");
    assert!(
        run_status["enum"]
            .as_array()
            .unwrap()
            .contains(&"succeeded".into()),
        "{run_status}"
    );
    assert!(
        schemas.get("Status").is_none(),
        "an ambiguous Status schema"
    );
    for view in ["RetentionRunView", "PermissionAuditRunView"] {
        schema_of(schemas, view);
    }
}

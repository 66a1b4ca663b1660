//! Request context: a request id on every request and response (`X-Request-Id`; a well-formed
//! incoming one is kept), a tracing span carrying it, and HTTP metrics with bounded labels (see
//! `metrics`). And the body boundary: [`refuse_content_encoding`] turns away encoded request
//! bodies before anything reads them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;
use tracing::Instrument;

use super::error::{ApiError, ErrorCode};
use crate::metrics::{HttpLabels, HttpMethod, UNMATCHED_ROUTE};
use crate::state::AppState;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

fn valid_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The middleware function.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = HttpMethod::of(req.method().as_str());
    let route = req
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %request_id, method = method.as_str(), route = %route);
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(metrics) = metrics {
        let labels = HttpLabels {
            method,
            route,
            status,
        };
        metrics.http_requests.get_or_create(&labels).inc();
        metrics
            .http_duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    Ok(res)
}

/// The one route that takes an encoded body: it decodes zstd itself, with caps on the input and
/// the output (`ingest::batches::decode`).
pub const DECODING_ROUTE: &str = "/api/v1/agent/batches";

/// Whether every `Content-Encoding` header of a request says `identity` (or there is none).
fn body_is_unencoded(req: &ServiceRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::CONTENT_ENCODING)
        .all(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .all(|coding| coding.trim().eq_ignore_ascii_case("identity"))
            })
        })
}

/// Refuses a request whose body carries a `Content-Encoding` other than `identity` with 415
/// `unsupported_media_type`, before any extractor reads the body and before authentication, so
/// no compressed body is ever inflated by a client that has not proved who it is. Only
/// [`DECODING_ROUTE`] is let through.
pub async fn refuse_content_encoding(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if body_is_unencoded(&req) || req.match_pattern().as_deref() == Some(DECODING_ROUTE) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let error = ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "request bodies are accepted without Content-Encoding only",
    );
    let (http_req, _payload) = req.into_parts();
    let response = actix_web::ResponseError::error_response(&error);
    Ok(ServiceResponse::new(http_req, response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test};

    #[actix_web::test]
    async fn an_encoded_body_is_refused_before_the_handler_except_on_the_decoding_route() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(refuse_content_encoding))
                .route(
                    "/echo",
                    web::post().to(|body: web::Bytes| async move { HttpResponse::Ok().body(body) }),
                )
                .route(
                    DECODING_ROUTE,
                    web::post().to(|body: web::Bytes| async move { HttpResponse::Ok().body(body) }),
                ),
        )
        .await;
        for (encoding, expected) in [
            (None, 200),
            (Some("identity"), 200),
            (Some(" Identity "), 200),
            (Some("gzip"), 415),
            (Some("zstd"), 415),
            (Some("identity, gzip"), 415),
            (Some("br"), 415),
            (Some(""), 415),
        ] {
            let mut req = test::TestRequest::post().uri("/echo").set_payload("x");
            if let Some(e) = encoding {
                req = req.insert_header(("content-encoding", e));
            }
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status().as_u16(), expected, "{encoding:?}");
            if expected == 415 {
                let body: serde_json::Value = test::read_body_json(res).await;
                assert_eq!(body["code"], "unsupported_media_type");
            }
        }
        let req = test::TestRequest::post()
            .uri(DECODING_ROUTE)
            .insert_header(("content-encoding", "zstd"))
            .set_payload("x")
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200, "the batch route decodes its body itself");
    }
}

//! Everything that knows actix: routes, extractors, the error type, middleware. A handler
//! parses, calls one service function and maps the result.

pub mod console_auth;
pub mod error;
pub mod extractors;
pub mod middleware;
pub mod openapi;
pub mod routes;

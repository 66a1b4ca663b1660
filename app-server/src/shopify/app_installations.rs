//! The queries of the permission audit: every app installation with its scopes
//! (`appInstallations`, needs `read_apps`) and our own installation with its app. Posted through
//! `admin_api::query` (throttling, token refresh, typed `ACCESS_DENIED`).

use graphql_client::GraphQLQuery;

/// `appInstallations` one page at a time.
#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/app_installations.graphql",
    response_derives = "Debug, Serialize",
    variables_derives = "Deserialize"
)]
pub struct AppInstallations;

/// `currentAppInstallation` with its app.
#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/own_installation.graphql",
    response_derives = "Debug, Serialize",
    variables_derives = "Deserialize"
)]
pub struct OwnInstallation;

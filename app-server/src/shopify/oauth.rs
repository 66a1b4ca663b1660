//! Getting and keeping an offline Admin API token for a shop.
//!
//! - Authorization code grant (non-embedded install, `oauth2` crate, client secret in the request
//!   body): [`begin_install`] checks the signed install request and redirects to Shopify's
//!   authorize page with a single-use `state` bound to the shop; [`complete_install`] checks
//!   the HMAC, the state and the shop *before* exchanging the code.
//! - Token exchange (embedded app, managed install): [`exchange_session_token`] trades a
//!   verified session token for an offline (or online) token.
//! - Expiring offline tokens: [`access_token`] refreshes within five minutes of expiry under a
//!   per-shop lock (in-process mutex, plus a row lock on PostgreSQL), stores the rotated pair in
//!   one transaction, and treats a response without `expires_in` as already expired.
//! - A revoked token ([`drop_token`]) is deleted and the installation marked for re-auth.
//!
//! The last two live in `offline_token` and are re-exported here.
//!
//! Token values go to `secrets::put` only; no token endpoint body is ever logged.

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::TenantId;
use leakguard_domain::shop::ShopDomain;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, RedirectUrl, RefreshToken, RequestTokenError,
    StandardRevocableToken, TokenUrl,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::ShopifyAdapter;
pub use super::offline_token::{REFRESH_MARGIN_MS, access_token, drop_token, has_usable_token};
use super::{ShopifyConfig, ShopifyError, hmac};
use crate::audit_chain::{self, PLATFORM_CHAIN};
use crate::db::entities::{shopify_installations, shopify_oauth_states, tenants};
use crate::db::{begin_write, now_ms};
use crate::secrets;
use crate::tenancy::{self, Principal, TenantCtx, scoped};
use leakguard_domain::audit::Actor;

/// How long an OAuth `state` stays valid.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const OFFLINE: &str = "urn:shopify:params:oauth:token-type:offline-access-token";
const ONLINE: &str = "urn:shopify:params:oauth:token-type:online-access-token";

/// The staff member an online token is for.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct AssociatedUser {
    /// Shopify user id (the session token's `sub`).
    pub id: Option<serde_json::Value>,
    /// The shop owner.
    #[serde(default)]
    pub account_owner: bool,
    /// A collaborator account.
    #[serde(default)]
    pub collaborator: bool,
}

/// Shopify's token endpoint answer (it has no `token_type`; scopes are comma-separated).
#[derive(Debug, Deserialize, Serialize)]
pub struct ShopifyTokenResponse {
    pub(super) access_token: AccessToken,
    #[serde(skip, default = "bearer")]
    token_type: BasicTokenType,
    /// Granted scopes, comma-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// Seconds until the access token expires (expiring tokens only).
    #[serde(default)]
    pub expires_in: Option<u64>,
    pub(super) refresh_token: Option<RefreshToken>,
    /// Seconds until the refresh token expires.
    #[serde(default)]
    pub refresh_token_expires_in: Option<u64>,
    /// Online tokens: the staff member.
    #[serde(default)]
    pub associated_user: Option<AssociatedUser>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl oauth2::TokenResponse for ShopifyTokenResponse {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<std::time::Duration> {
        self.expires_in.map(std::time::Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<oauth2::Scope>> {
        None
    }
}

impl ShopifyTokenResponse {
    /// The access token.
    pub fn access_token_secret(&self) -> SecretString {
        SecretString::from(self.access_token.secret().clone())
    }
}

type ShopifyClient = Client<
    BasicErrorResponse,
    ShopifyTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

pub(super) fn oauth_client(
    config: &ShopifyConfig,
    shop: &ShopDomain,
) -> Result<ShopifyClient, ShopifyError> {
    let base = config.shop_base(shop);
    let bad = |e: url::ParseError| ShopifyError::Unexpected(anyhow::anyhow!("bad OAuth URL: {e}"));
    Ok(Client::new(ClientId::new(config.api_key.clone()))
        .set_client_secret(ClientSecret::new(
            config.secret().expose_secret().to_owned(),
        ))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(format!("https://{shop}/admin/oauth/authorize")).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{base}/admin/oauth/access_token")).map_err(bad)?)
        .set_redirect_uri(RedirectUrl::new(config.redirect_uri()).map_err(bad)?))
}

/// The error the reqwest adapter gives oauth2.
#[derive(Debug, thiserror::Error)]
#[error("token endpoint unreachable: {0}")]
pub struct TransportError(String);

/// Sends oauth2's request with our reqwest 0.13 client (oauth2's own reqwest is 0.12).
async fn send(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TransportError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|e| TransportError(e.without_url().to_string()))?;
    let response = http
        .execute(request)
        .await
        .map_err(|e| TransportError(e.without_url().to_string()))?;
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| TransportError(e.without_url().to_string()))?;
    builder
        .body(body.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}

/// oauth2's transport over our client. It owns a handle of the client, so the future it
/// returns borrows nothing from the caller's stack and stays `Send` (the permission audit job
/// runs it on the scheduler's worker threads).
pub(super) struct Transport(pub(super) reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Transport {
    type Error = TransportError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, TransportError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

pub(super) fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, BasicErrorResponse>,
) -> ShopifyError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let code = r.error().to_string();
            if code == "invalid_grant" || code == "invalid_subject_token" {
                ShopifyError::Unauthorized(format!("Shopify refused the grant ({code})"))
            } else {
                ShopifyError::Upstream(format!("token endpoint error {code}"))
            }
        }
        RequestTokenError::Request(e) => ShopifyError::Upstream(e.to_string()),
        RequestTokenError::Parse(_, _) => {
            ShopifyError::Upstream("token endpoint answered with an unreadable body".into())
        }
        RequestTokenError::Other(m) => ShopifyError::Upstream(m),
    }
}

pub(super) fn config(state: &ShopifyAdapter) -> Result<&ShopifyConfig, ShopifyError> {
    state
        .shopify
        .config
        .as_ref()
        .ok_or(ShopifyError::NotConfigured)
}

fn shop_param(params: &hmac::QueryParams) -> Result<ShopDomain, ShopifyError> {
    let raw = params.get("shop").ok_or_else(|| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::MissingParameter,
            "the shop parameter is missing",
        ))
    })?;
    ShopDomain::parse(raw).map_err(|e| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidShopDomain,
            e.to_string(),
        ))
    })
}

/// Checks a signed admin query (HMAC, then a 90 s timestamp window) and its shop.
pub fn verify_admin_query(
    config: &ShopifyConfig,
    raw_query: &str,
    now: i64,
) -> Result<(hmac::QueryParams, ShopDomain), ShopifyError> {
    let params = hmac::verify_query(raw_query, &config.secrets(), super::secs(now))
        .map_err(|e| ShopifyError::Unauthorized(e.to_string()))?;
    let shop = shop_param(&params)?;
    Ok((params, shop))
}

/// Install request: verifies it and returns the authorize URL to redirect to, after storing a
/// single-use state bound to the shop.
pub async fn begin_install(
    db: &DatabaseConnection,
    config: &ShopifyConfig,
    raw_query: &str,
    now: i64,
) -> Result<String, ShopifyError> {
    let (_params, shop) = verify_admin_query(config, raw_query, now)?;
    let raw: [u8; 32] = rand::random();
    let state = hex::encode(raw);
    let txn = begin_write(db).await?;
    shopify_oauth_states::Entity::delete_many()
        .filter(shopify_oauth_states::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    shopify_oauth_states::Entity::insert(shopify_oauth_states::ActiveModel {
        state: Set(state.clone()),
        shop_domain: Set(shop.to_string()),
        created_at: Set(now),
        expires_at: Set(now + STATE_TTL_MS),
        consumed_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    let client = oauth_client(config, &shop)?;
    let (url, _) = client
        .authorize_url(move || CsrfToken::new(state))
        .add_extra_param("scope", config.scopes.clone())
        .url();
    Ok(url.to_string())
}

/// OAuth callback: checks HMAC, state and shop, then exchanges the code, installs the tenant
/// and returns where to send the browser (the app inside the shop's admin).
pub async fn complete_install(
    state: &ShopifyAdapter,
    raw_query: &str,
    now: i64,
) -> Result<String, ShopifyError> {
    let config = config(state)?;
    let (params, shop) = verify_admin_query(config, raw_query, now)?;
    let presented = params
        .get("state")
        .ok_or_else(|| ShopifyError::Unauthorized("the OAuth state is missing".into()))?;
    let code = params
        .get("code")
        .filter(|c| !c.is_empty() && c.len() <= 255)
        .ok_or_else(|| {
            ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::MissingParameter,
                "the authorization code is missing",
            ))
        })?;
    // Consume the state: it must exist, belong to this shop, be unexpired and unused. The
    // lookup is by primary key on a 256-bit random value, so timing reveals nothing usable.
    let txn = begin_write(&state.db).await?;
    let consumed = shopify_oauth_states::Entity::update_many()
        .col_expr(shopify_oauth_states::Column::ConsumedAt, Expr::value(now))
        .filter(shopify_oauth_states::Column::State.eq(presented.as_str()))
        .filter(shopify_oauth_states::Column::ShopDomain.eq(shop.as_str()))
        .filter(shopify_oauth_states::Column::ConsumedAt.is_null())
        .filter(shopify_oauth_states::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if consumed.rows_affected != 1 {
        return Err(ShopifyError::Unauthorized(
            "the OAuth state is invalid, expired or already used; start the install again".into(),
        ));
    }
    txn.commit().await?;
    let client = oauth_client(config, &shop)?;
    let adapter = Transport(state.shopify.http.clone());
    let response = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .add_extra_param("expiring", "1")
        .request_async(&adapter)
        .await
        .map_err(token_error)?;
    let tenant = install_tenant(state, &shop, &response, now).await?;
    after_install(state, tenant).await;
    Ok(format!("https://{shop}/admin/apps/{}", config.api_key))
}

/// Token exchange: a verified session token for an offline (or, with `online`, an online)
/// access token.
pub async fn exchange_session_token(
    state: &ShopifyAdapter,
    shop: &ShopDomain,
    session_token: &str,
    online: bool,
) -> Result<ShopifyTokenResponse, ShopifyError> {
    let config = config(state)?;
    let body = serde_json::json!({
        "client_id": config.api_key,
        "client_secret": config.secret().expose_secret(),
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": session_token,
        "subject_token_type": ID_TOKEN,
        "requested_token_type": if online { ONLINE } else { OFFLINE },
        "expiring": if online { "0" } else { "1" },
    });
    let response = state
        .shopify
        .http
        .post(format!(
            "{}/admin/oauth/access_token",
            config.shop_base(shop)
        ))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| ShopifyError::Upstream(e.without_url().to_string()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ShopifyError::Upstream(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|_| {
            ShopifyError::Upstream("token endpoint answered with an unreadable body".into())
        });
    }
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_default();
    if status.as_u16() == 400 && (code == "invalid_subject_token" || code == "invalid_grant") {
        Err(ShopifyError::Unauthorized(
            "Shopify refused the session token".into(),
        ))
    } else {
        Err(ShopifyError::Upstream(format!(
            "token exchange failed with HTTP {status}"
        )))
    }
}

/// Expiry columns of a token response at `now`. A refresh token with no `expires_in` means the
/// access token is treated as already expired; no refresh token means a non-expiring token.
pub(super) fn expiries(response: &ShopifyTokenResponse, now: i64) -> (Option<i64>, Option<i64>) {
    if response.refresh_token.is_none() {
        return (
            response
                .expires_in
                .map(|s| now + i64::try_from(s).unwrap_or(0) * 1000),
            None,
        );
    }
    let access = now
        + response
            .expires_in
            .map_or(0, |s| i64::try_from(s).unwrap_or(0) * 1000);
    let refresh = response
        .refresh_token_expires_in
        .map(|s| now + i64::try_from(s).unwrap_or(0) * 1000);
    (Some(access), refresh)
}

async fn store_tokens<C: ConnectionTrait>(
    txn: &C,
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    response: &ShopifyTokenResponse,
) -> Result<(), ShopifyError> {
    secrets::put(
        txn,
        &state.keyring,
        ctx,
        super::ACCESS_TOKEN_SECRET,
        response.access_token.secret().as_bytes(),
    )
    .await?;
    match &response.refresh_token {
        Some(refresh) => {
            secrets::put(
                txn,
                &state.keyring,
                ctx,
                super::REFRESH_TOKEN_SECRET,
                refresh.secret().as_bytes(),
            )
            .await?
        }
        None => {
            secrets::delete(txn, ctx, super::REFRESH_TOKEN_SECRET).await?;
        }
    }
    Ok(())
}

/// Creates the shop's tenant, or reactivates it, and stores the offline token; one transaction.
pub async fn install_tenant(
    state: &ShopifyAdapter,
    shop: &ShopDomain,
    response: &ShopifyTokenResponse,
    now: i64,
) -> Result<TenantId, ShopifyError> {
    let txn = begin_write(&state.db).await?;
    let existing = tenants::Entity::find()
        .filter(tenants::Column::ShopDomain.eq(shop.as_str()))
        .one(&txn)
        .await?;
    let installer = Actor::system("shopify.install");
    let (tenant_id, action) = match existing {
        None => {
            let id = TenantId::new();
            tenants::Entity::insert(tenants::ActiveModel {
                id: Set(id.as_uuid()),
                platform: Set(tenants::Platform::Shopify),
                shop_domain: Set(Some(shop.to_string())),
                base_url: Set(None),
                status: Set(tenants::Status::Active),
                created_at: Set(now),
                installed_at: Set(Some(now)),
                uninstalled_at: Set(None),
                purged_at: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
            audit_chain::append(
                &txn,
                PLATFORM_CHAIN,
                &installer,
                "tenant.created",
                Subject::new("tenant", id.to_string()),
                serde_json::json!({"platform": "shopify", "via": "shopify_install"}),
            )
            .await?;
            (id, "shopify.installed")
        }
        Some(t) if t.platform != tenants::Platform::Shopify => {
            return Err(ShopifyError::Invalid(
                crate::invalid_input::InvalidInput::new(
                    crate::invalid_input::Reason::TenantNotEligible,
                    "the shop belongs to another platform",
                ),
            ));
        }
        Some(t) if t.status == tenants::Status::Active => (TenantId(t.id), "shopify.token_renewed"),
        Some(t) => {
            tenants::Entity::update_many()
                .col_expr(
                    tenants::Column::Status,
                    Expr::value(tenants::Status::Active),
                )
                .col_expr(tenants::Column::InstalledAt, Expr::value(now))
                .col_expr(
                    tenants::Column::UninstalledAt,
                    Expr::value(Option::<i64>::None),
                )
                .filter(tenants::Column::Id.eq(t.id))
                .exec(&txn)
                .await?;
            (TenantId(t.id), "shopify.reinstalled")
        }
    };
    let tenant = tenants::Entity::find_by_id(tenant_id.as_uuid())
        .one(&txn)
        .await?
        .ok_or(ShopifyError::NotFound)?;
    let ctx = tenancy::admit(Principal::ShopifyInstall(installer), &tenant)
        .map_err(|e| ShopifyError::Unexpected(e.into()))?;
    let (access_expires, refresh_expires) = expiries(response, now);
    let scopes = response.scope.clone().unwrap_or_default();
    let fresh_install = action != "shopify.token_renewed";
    let existing_installation = scoped::<shopify_installations::Entity>(&ctx)
        .one(&txn)
        .await?;
    match existing_installation {
        None => {
            shopify_installations::Entity::insert(shopify_installations::ActiveModel {
                tenant_id: Set(tenant_id.as_uuid()),
                shop_domain: Set(shop.to_string()),
                granted_scopes: Set(scopes.clone()),
                access_expires_at: Set(access_expires),
                refresh_expires_at: Set(refresh_expires),
                needs_reauth: Set(false),
                installed_at: Set(now),
                updated_at: Set(now),
                uninstalled_at: Set(None),
                shop_redact_due_at: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        Some(existing) => {
            let mut update = shopify_installations::Entity::update_many()
                .col_expr(
                    shopify_installations::Column::GrantedScopes,
                    Expr::value(scopes.clone()),
                )
                .col_expr(
                    shopify_installations::Column::AccessExpiresAt,
                    Expr::value(access_expires),
                )
                .col_expr(
                    shopify_installations::Column::RefreshExpiresAt,
                    Expr::value(refresh_expires),
                )
                .col_expr(
                    shopify_installations::Column::NeedsReauth,
                    Expr::value(false),
                )
                .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
                .col_expr(
                    shopify_installations::Column::UninstalledAt,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(
                    shopify_installations::Column::ShopRedactDueAt,
                    Expr::value(Option::<i64>::None),
                );
            if fresh_install || existing.uninstalled_at.is_some() {
                update =
                    update.col_expr(shopify_installations::Column::InstalledAt, Expr::value(now));
            }
            update
                .filter(shopify_installations::Column::TenantId.eq(tenant_id.as_uuid()))
                .exec(&txn)
                .await?;
        }
    }
    store_tokens(&txn, state, &ctx, response).await?;
    audit_chain::record(
        &txn,
        &ctx,
        action,
        Subject::new("tenant", tenant_id.to_string()),
        serde_json::json!({
            "scopes": scopes,
            "expiring_token": response.refresh_token.is_some(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(tenant_id)
}

/// After an install: read the scopes actually granted (`currentAppInstallation`). Webhooks are
/// app-specific subscriptions in `shopify.app.toml`, so nothing is registered per shop.
/// Failures are logged; the install stands.
pub async fn after_install(state: &ShopifyAdapter, tenant: TenantId) {
    let ctx = TenantCtx::system(tenant, "shopify.install");
    if let Err(e) = super::admin_api::sync_granted_scopes(state, &ctx, now_ms()).await {
        tracing::warn!(tenant_id = %tenant, error = %e, "Could not read the granted scopes after install.");
    }
}

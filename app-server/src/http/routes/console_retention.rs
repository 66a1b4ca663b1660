//! `/console/retention`: the retention policy (admins edit it here), what payment data the
//! tenant holds and what is past its limit, dry runs, enforcement now, and run history.

use actix_web::{HttpResponse, web};
use leakguard_domain::retention::DataClass;
use minijinja::context;
use serde::Deserialize;
use std::collections::HashMap;

use super::console_pages::{Notes, page, see_other};
use crate::console::pages;
use crate::db::now_ms;
use crate::http::console_auth::{ConsoleCtx, ConsoleForm, PageError};
use crate::http::error::ApiError;
use crate::retention::{self, ClassReport, Options};
use crate::state::AppState;

async fn render(
    state: &AppState,
    cc: &ConsoleCtx,
    dry_run: Option<Vec<ClassReport>>,
    notes: Notes,
) -> Result<HttpResponse, PageError> {
    let policy = retention::current_policy(&state.db, &cc.ctx)
        .await
        .map_err(|e| cc.err(e))?;
    let inventory = retention::inventory(&state.db, &cc.ctx, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    let runs = retention::list_runs(&state.db, &cc.ctx)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {
        policy => pages::value(&policy),
        inventory => pages::value(&inventory),
        runs => pages::value(&runs),
        dry_run => dry_run.map(|d| pages::value(&d)),
        can_admin => cc.ctx.role().can_administer(),
    };
    page(state, cc, "retention.html", "retention", values, notes).await
}

/// `GET /console/retention`.
pub async fn retention_page(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let flash = query.contains_key("saved").then(|| "Saved.".to_owned());
    render(
        &state,
        &cc,
        None,
        Notes {
            flash,
            ..Notes::default()
        },
    )
    .await
}

/// `POST /console/retention/policy`: new limits per class (admins); saved as a new version.
pub async fn save_policy(
    state: web::Data<AppState>,
    ConsoleForm { cc, form }: ConsoleForm<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    if !cc.ctx.role().can_administer() {
        return Err(cc.err(ApiError::forbidden()));
    }
    let mut policy = retention::current_policy(&state.db, &cc.ctx)
        .await
        .map_err(|e| cc.err(e))?;
    let mut error = None;
    for rule in &mut policy.classes {
        let key = format!("max_age_{}", class_name(rule.class));
        if let Some(text) = form.get(&key) {
            match text.trim().parse::<u32>() {
                Ok(days) => rule.max_age_days = days,
                Err(_) => error = Some(format!("{key} must be a whole number of days")),
            }
        }
    }
    let result = match error {
        Some(message) => Err(retention::RetentionError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidRetentionPolicy,
                message,
            ),
        )),
        None => retention::save_policy(&state.db, &cc.ctx, policy)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(see_other("/console/retention?saved=1".into())),
        Err(retention::RetentionError::Invalid(message)) => {
            render(
                &state,
                &cc,
                None,
                Notes {
                    error: Some(message.message),
                    status: Some(actix_web::http::StatusCode::BAD_REQUEST),
                    ..Notes::default()
                },
            )
            .await
        }
        Err(e) => Err(cc.err(e)),
    }
}

/// Fields of the run form.
#[derive(Deserialize)]
pub struct RunForm {
    mode: String,
}

/// `POST /console/retention/runs`: a dry run (shown on the page) or enforcement now (admins).
pub async fn run(
    state: web::Data<AppState>,
    ConsoleForm { cc, form }: ConsoleForm<RunForm>,
) -> Result<HttpResponse, PageError> {
    if !cc.ctx.role().can_administer() {
        return Err(cc.err(ApiError::forbidden()));
    }
    let dry_run = match form.mode.as_str() {
        "dry_run" => true,
        "enforce" => false,
        _ => {
            return Err(cc.err(ApiError::refused(
                crate::invalid_input::Reason::InvalidMode,
                "mode must be dry_run or enforce",
            )));
        }
    };
    let options = Options {
        dry_run,
        ..Options::now()
    };
    let reports = retention::enforce_own_store(&state.db, &cc.ctx, options, &|_| Ok(()))
        .await
        .map_err(|e| cc.err(e))?;
    if dry_run {
        render(&state, &cc, Some(reports), Notes::default()).await
    } else {
        Ok(see_other("/console/retention?saved=1".into()))
    }
}

fn class_name(class: DataClass) -> String {
    serde_json::to_value(class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

//! Findings and their review: listing findings, recording a decision (acknowledge, accept a
//! risk until a date, mark for revocation) and reading the review history.

use leakguard_domain::audit::Subject;
use leakguard_domain::permissions::{self as model, Decision};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::views::{
    FindingDetail, FindingView, ReviewView, finding_view, grants_of, severity_rank,
};
use super::{AuditsError, DAY_MS, MAX_ACCEPT_DAYS};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{perm_findings, perm_reviews};
use crate::tenancy::{TenantCtx, scoped};

const MAX_JUSTIFICATION: usize = 2000;

/// A review request.
#[derive(Clone, Debug)]
pub struct ReviewInput {
    /// `acknowledge`, `accept_risk` or `mark_for_revocation`.
    pub decision: String,
    /// Why; required to accept a risk.
    pub justification: Option<String>,
    /// Expiry of an accepted risk (Unix ms); required to accept a risk, at most
    /// [`MAX_ACCEPT_DAYS`] ahead.
    pub expires_at_ms: Option<i64>,
}

/// Records a review decision on an unresolved finding (owner, admin, analyst).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn review(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    finding_id: Uuid,
    input: ReviewInput,
    now_ms: i64,
) -> Result<ReviewView, AuditsError> {
    if !ctx.role().can_review() {
        return Err(AuditsError::Forbidden);
    }
    let justification = input
        .justification
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(str::to_owned);
    if justification
        .as_ref()
        .is_some_and(|j| j.chars().count() > MAX_JUSTIFICATION)
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidJustification,
                format!("the justification is longer than {MAX_JUSTIFICATION} characters"),
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let row = scoped::<perm_findings::Entity>(ctx)
        .filter(perm_findings::Column::Id.eq(finding_id))
        .one(&txn)
        .await?
        .ok_or(AuditsError::NotFound)?;
    if row.resolved_at.is_some() {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::FindingNotReviewable,
                "this finding is resolved: the latest audit no longer produces it",
            ),
        ));
    }
    let grants = grants_of(&row.grants);
    let (decision, expires_at, ticket) = match input.decision.as_str() {
        "acknowledge" => {
            if input.expires_at_ms.is_some() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "only an accepted risk has an expiry",
                    ),
                ));
            }
            (Decision::Acknowledge, None, None)
        }
        "accept_risk" => {
            let Some(justification) = justification.clone() else {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidJustification,
                        "accepting a risk needs a justification",
                    ),
                ));
            };
            let Some(until) = input.expires_at_ms else {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "accepting a risk needs an expiry date",
                    ),
                ));
            };
            if until <= now_ms {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "the expiry must be in the future",
                    ),
                ));
            }
            if until > now_ms + MAX_ACCEPT_DAYS * DAY_MS {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        format!("a risk can be accepted for at most {MAX_ACCEPT_DAYS} days"),
                    ),
                ));
            }
            (
                Decision::AcceptRisk {
                    justification,
                    until_ms: until,
                    grants_hash: model::grants_hash(&grants),
                },
                Some(until),
                None,
            )
        }
        "mark_for_revocation" => {
            if input.expires_at_ms.is_some() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "only an accepted risk has an expiry",
                    ),
                ));
            }
            if row.principal.is_none() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::FindingNotReviewable,
                        "this finding concerns no app, integration or user to revoke",
                    ),
                ));
            }
            (
                Decision::MarkForRevocation,
                None,
                Some(perm_reviews::TicketStatus::Pending),
            )
        }
        _ => {
            return Err(AuditsError::Invalid(
                crate::invalid_input::InvalidInput::new(
                    crate::invalid_input::Reason::InvalidDecision,
                    "decision must be acknowledge, accept_risk or mark_for_revocation",
                ),
            ));
        }
    };
    let review_id = Uuid::now_v7();
    let grants_hash = match &decision {
        Decision::AcceptRisk { grants_hash, .. } => Some(grants_hash.clone()),
        _ => None,
    };
    perm_findings::Entity::update_many()
        .col_expr(
            perm_findings::Column::Decision,
            Expr::value(serde_json::to_string(&decision)?),
        )
        .col_expr(perm_findings::Column::DecidedAt, Expr::value(now_ms))
        .filter(perm_findings::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(perm_findings::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let model = perm_reviews::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(review_id),
        finding_id: Set(row.id),
        finding_key: Set(row.finding_key.clone()),
        decision: Set(match &decision {
            Decision::Acknowledge => perm_reviews::Decision::Acknowledge,
            Decision::AcceptRisk { .. } => perm_reviews::Decision::AcceptRisk,
            Decision::MarkForRevocation => perm_reviews::Decision::MarkForRevocation,
        }),
        justification: Set(justification.clone()),
        expires_at: Set(expires_at),
        grants_hash: Set(grants_hash),
        grants: Set(row.grants.clone()),
        user_id: Set(ctx.user_id().map(|u| u.as_uuid())),
        actor: Set(format!("{}:{}", ctx.actor().kind, ctx.actor().id)),
        created_at: Set(now_ms),
        ticket_status: Set(ticket),
    };
    perm_reviews::Entity::insert(model)
        .exec_without_returning(&txn)
        .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_finding.reviewed",
        Subject::new("permission_finding", row.id.to_string()),
        serde_json::json!({
            "key": row.finding_key, "decision": input.decision, "justification": justification,
            "expires_at": expires_at, "grants": grants, "review": review_id.to_string(),
        }),
    )
    .await?;
    let saved = scoped::<perm_reviews::Entity>(ctx)
        .filter(perm_reviews::Column::Id.eq(review_id))
        .one(&txn)
        .await?
        .ok_or(AuditsError::NotFound)?;
    txn.commit().await?;
    Ok(saved.into())
}

async fn with_names(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    mut reviews: Vec<ReviewView>,
) -> Result<Vec<ReviewView>, AuditsError> {
    if reviews.is_empty() {
        return Ok(reviews);
    }
    let names: BTreeMap<Uuid, String> = crate::tenants::list_users(db, ctx)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    for r in &mut reviews {
        if let Some(name) = r.user_id.and_then(|u| names.get(&u)) {
            r.actor_name = name.clone();
        }
    }
    Ok(reviews)
}

/// Which findings to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingFilter {
    /// Not resolved (default).
    Active,
    /// Needs review: not resolved and open (incl. expired or outgrown accepted risks).
    Open,
    /// Resolved.
    Resolved,
    /// Everything.
    All,
}

impl FindingFilter {
    /// Parses the query value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// Findings, most severe first.
pub async fn list_findings(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    filter: FindingFilter,
    now_ms: i64,
) -> Result<Vec<FindingView>, AuditsError> {
    let mut query = scoped::<perm_findings::Entity>(ctx);
    query = match filter {
        FindingFilter::Active | FindingFilter::Open => {
            query.filter(perm_findings::Column::ResolvedAt.is_null())
        }
        FindingFilter::Resolved => query.filter(perm_findings::Column::ResolvedAt.is_not_null()),
        FindingFilter::All => query,
    };
    let mut out: Vec<FindingView> = query
        .all(db)
        .await?
        .into_iter()
        .map(|row| finding_view(row, now_ms))
        .filter(|f| filter != FindingFilter::Open || f.state == "open")
        .collect();
    out.sort_by(|a, b| {
        severity_rank(&a.severity)
            .cmp(&severity_rank(&b.severity))
            .then(a.key.cmp(&b.key))
    });
    Ok(out)
}

/// One finding with its history.
pub async fn get_finding(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    now_ms: i64,
) -> Result<FindingDetail, AuditsError> {
    let row = scoped::<perm_findings::Entity>(ctx)
        .filter(perm_findings::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AuditsError::NotFound)?;
    let reviews = scoped::<perm_reviews::Entity>(ctx)
        .filter(perm_reviews::Column::FindingId.eq(id))
        .order_by_desc(perm_reviews::Column::CreatedAt)
        .order_by_desc(perm_reviews::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ReviewView::from)
        .collect();
    let reviews = with_names(db, ctx, reviews).await?;
    Ok(FindingDetail {
        finding: finding_view(row, now_ms),
        reviews,
    })
}

/// The review history, newest first; `pending_revocations` keeps only revocations no
/// ticketing step has picked up.
pub async fn list_reviews(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    pending_revocations: bool,
    limit: u64,
) -> Result<Vec<ReviewView>, AuditsError> {
    let mut query = scoped::<perm_reviews::Entity>(ctx);
    if pending_revocations {
        query = query
            .filter(perm_reviews::Column::TicketStatus.eq(perm_reviews::TicketStatus::Pending));
    }
    let reviews = query
        .order_by_desc(perm_reviews::Column::CreatedAt)
        .order_by_desc(perm_reviews::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(ReviewView::from)
        .collect();
    with_names(db, ctx, reviews).await
}

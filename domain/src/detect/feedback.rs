//! Analyst feedback: typed, scoped, expiring and revocable suppressions.
//!
//! A false-positive mark names its scope (the principal, the rule, a category) and an expiry.
//! Suppressed findings are still counted. Revoking a suppression restores alerting; learned
//! normal volume (see `Engine::mark_false_positive`) stays learned, as any other history.

use serde::{Deserialize, Serialize};

use super::alert::RuleId;
use super::signal::{Category, CategorySet, PrincipalKey};

/// What a suppression covers. `None` fields match everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionScope {
    /// Only this principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<PrincipalKey>,
    /// Only this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
    /// Only findings touching this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

/// One suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Sequence number within the engine state.
    pub id: u64,
    /// What it covers.
    pub scope: SuppressionScope,
    /// Unix time from which it applies.
    pub from: i64,
    /// Unix time until which it applies (exclusive).
    pub until: i64,
    /// The alert that was marked, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_alert: Option<u64>,
    /// Findings it has silenced.
    pub silenced: u64,
    /// Revoked by an analyst (kept for the record).
    pub revoked: bool,
}

/// Rules that an analyst can never silence wholesale (only per principal with an expiry).
pub fn rule_needs_principal(rule: RuleId) -> bool {
    matches!(
        rule,
        RuleId::IntoOutfile | RuleId::ScopeGrant | RuleId::LoggingDisabled
    )
}

impl Suppression {
    /// Whether the suppression silences a finding.
    pub fn covers(
        &self,
        key: &PrincipalKey,
        rule: RuleId,
        categories: CategorySet,
        at: i64,
    ) -> bool {
        if self.revoked || at < self.from || at >= self.until {
            return false;
        }
        if self.scope.principal.is_none() && rule_needs_principal(rule) {
            return false;
        }
        self.scope.principal.as_ref().is_none_or(|p| p == key)
            && self.scope.rule.is_none_or(|r| r == rule)
            && self
                .scope
                .category
                .is_none_or(|c| categories.is_empty() || categories.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suppression(scope: SuppressionScope) -> Suppression {
        Suppression {
            id: 1,
            scope,
            from: 0,
            until: 100,
            from_alert: None,
            silenced: 0,
            revoked: false,
        }
    }

    #[test]
    fn a_suppression_is_bounded_by_its_scope_and_expiry() {
        let admin = PrincipalKey::Admin("7".into());
        let other = PrincipalKey::Admin("8".into());
        let s = suppression(SuppressionScope {
            principal: Some(admin.clone()),
            rule: Some(RuleId::MassExtraction),
            category: None,
        });
        let customers = CategorySet::of(Category::Customer);
        assert!(s.covers(&admin, RuleId::MassExtraction, customers, 50));
        assert!(!s.covers(&admin, RuleId::MassExtraction, customers, 100));
        assert!(!s.covers(&other, RuleId::MassExtraction, customers, 50));
        assert!(!s.covers(&admin, RuleId::LowAndSlow, customers, 50));
    }

    #[test]
    fn outfile_cannot_be_silenced_for_everyone() {
        let s = suppression(SuppressionScope {
            principal: None,
            rule: Some(RuleId::IntoOutfile),
            category: None,
        });
        let key = PrincipalKey::DbAccount("x".into(), String::new());
        assert!(!s.covers(&key, RuleId::IntoOutfile, CategorySet::EMPTY, 1));
    }
}

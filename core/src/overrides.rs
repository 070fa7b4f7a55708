//! Run-time overrides per queue and per tenant: operators cap or change the policy without a
//! restart. Resolution order: the class policy, then the queue's patch (all classes, then the
//! class), then the tenant's patch (all classes, then the class).

use crate::class::ErrorClass;
use crate::policy::{ClassPolicy, PolicyPatch};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

/// What an override applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "name", rename_all = "snake_case")]
pub enum Scope {
    /// Every episode of this queue key.
    Queue(String),
    /// Every episode of this tenant.
    Tenant(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ScopePatches {
    all: Option<PolicyPatch>,
    classes: BTreeMap<ErrorClass, PolicyPatch>,
}

/// All overrides in force. Immutable: the engine swaps in a new value on change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    scopes: BTreeMap<Scope, ScopePatches>,
}

impl Overrides {
    /// True when no override is set.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// A copy with `patch` set for the scope and class (None = every class).
    pub fn with(&self, scope: Scope, class: Option<ErrorClass>, patch: PolicyPatch) -> Overrides {
        let mut next = self.clone();
        let entry = next.scopes.entry(scope).or_default();
        match class {
            Some(c) => {
                entry.classes.insert(c, patch);
            }
            None => entry.all = Some(patch),
        }
        next
    }

    /// A copy without the scope's override for the class (None = all of the scope's overrides).
    pub fn without(&self, scope: &Scope, class: Option<ErrorClass>) -> Overrides {
        let mut next = self.clone();
        match class {
            None => {
                next.scopes.remove(scope);
            }
            Some(c) => {
                if let Some(e) = next.scopes.get_mut(scope) {
                    e.classes.remove(&c);
                    if e.all.is_none() && e.classes.is_empty() {
                        next.scopes.remove(scope);
                    }
                }
            }
        }
        next
    }

    /// Every override, for export.
    pub fn list(&self) -> Vec<(Scope, Option<ErrorClass>, PolicyPatch)> {
        let mut out = Vec::new();
        for (scope, p) in &self.scopes {
            if let Some(all) = &p.all {
                out.push((scope.clone(), None, all.clone()));
            }
            for (c, patch) in &p.classes {
                out.push((scope.clone(), Some(*c), patch.clone()));
            }
        }
        out
    }

    /// The effective class policy for (queue, tenant, class) and the operator's fixed delay.
    pub fn resolve<'a>(
        &self,
        base: &'a ClassPolicy,
        queue: &str,
        tenant: Option<&str>,
        class: ErrorClass,
    ) -> (Cow<'a, ClassPolicy>, Option<Duration>) {
        if self.scopes.is_empty() {
            return (Cow::Borrowed(base), None);
        }
        let mut patches: Vec<&PolicyPatch> = Vec::new();
        let mut collect = |scope: Scope| {
            if let Some(p) = self.scopes.get(&scope) {
                patches.extend(p.all.iter());
                patches.extend(p.classes.get(&class));
            }
        };
        collect(Scope::Queue(queue.to_string()));
        if let Some(t) = tenant {
            collect(Scope::Tenant(t.to_string()));
        }
        if patches.is_empty() {
            return (Cow::Borrowed(base), None);
        }
        let mut cp = base.clone();
        let mut fixed = None;
        for p in patches {
            if let Some(d) = p.apply(&mut cp) {
                fixed = Some(d);
            }
        }
        (Cow::Owned(cp), fixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_overrides_queue_overrides_base() {
        let base = ClassPolicy::default_for(ErrorClass::Unavailable);
        let o = Overrides::default()
            .with(
                Scope::Queue("q".into()),
                None,
                PolicyPatch {
                    max_attempts: Some(9),
                    ..Default::default()
                },
            )
            .with(
                Scope::Tenant("t".into()),
                Some(ErrorClass::Unavailable),
                PolicyPatch {
                    max_attempts: Some(2),
                    fixed_delay: Some(Duration::from_secs(3)),
                    ..Default::default()
                },
            );
        let (cp, fixed) = o.resolve(&base, "q", None, ErrorClass::Unavailable);
        assert_eq!((cp.max_attempts, fixed), (9, None));
        let (cp, fixed) = o.resolve(&base, "q", Some("t"), ErrorClass::Unavailable);
        assert_eq!((cp.max_attempts, fixed), (2, Some(Duration::from_secs(3))));
        let (cp, _) = o.resolve(&base, "other", Some("x"), ErrorClass::Unavailable);
        assert!(matches!(cp, Cow::Borrowed(_)));
        let o = o.without(&Scope::Tenant("t".into()), Some(ErrorClass::Unavailable));
        assert_eq!(o.list().len(), 1);
    }
}

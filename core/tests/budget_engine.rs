//! Budgets inside the engine: gRFC A6 charges only retryable failures, previews agree with
//! records at the throttling edge, stacked budgets pay together, and budgets and breakers stay
//! bounded however many keys pass through.

use smartretry::*;
use std::sync::Arc;
use std::time::Duration;

fn engine(json: &str) -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    (Engine::from_json(json, clock.clone()).unwrap(), clock)
}

const GRPC_4: &str = r#"{"budget":{"kind":"grpc","max_tokens":4,"token_ratio":0.8},
    "learning":{"enabled":false}}"#;

#[test]
fn grpc_a6_permanent_failures_cost_no_tokens() {
    let (e, _) = engine(GRPC_4);
    for _ in 0..10 {
        let mut ep = e.begin("q", None).unwrap();
        assert_eq!(
            e.on_failure(&mut ep, &Failure::http(400)).unwrap().action,
            Action::GiveUp
        );
    }
    let mut ep = e.begin("q", None).unwrap();
    let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert!(r.should_retry(), "4 - 1 = 3 tokens > 2: {r}");
}

#[test]
fn preview_agrees_with_record_at_the_throttling_edge() {
    let (e, _) = engine(GRPC_4);
    let mut first = e.begin("q", None).unwrap();
    assert!(e
        .on_failure(&mut first, &Failure::http(503))
        .unwrap()
        .should_retry()); // 3 tokens
    let mut ep = e.begin("q", None).unwrap();
    // the next failure takes the bucket to 2 = max / 2: throttled
    let recommended = e.recommend(&ep, &Failure::http(503)).unwrap();
    let again = e.recommend(&ep, &Failure::http(503)).unwrap();
    let previewed = e.preview("q", None, &Failure::http(503), 3).unwrap();
    let recorded = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(recorded.action, Action::GiveUp, "{recorded}");
    for dry in [&recommended, &again, &previewed[0]] {
        assert_eq!(dry.action, recorded.action, "{dry} vs {recorded}");
        assert_eq!(dry.reason, recorded.reason);
    }
    assert_eq!(previewed.len(), 1);
}

#[test]
fn preview_says_retry_where_record_retries() {
    let (e, _) = engine(GRPC_4);
    let mut ep = e.begin("q", None).unwrap();
    let recommended = e.recommend(&ep, &Failure::http(503)).unwrap();
    let recorded = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(
        (recommended.action, recorded.action),
        (Action::Retry, Action::Retry)
    );
}

#[test]
fn a_noisy_tenant_refused_by_its_budget_does_not_drain_the_queue() {
    let (e, clock) = engine(
        r#"{"budget":{"kind":"aws_standard","capacity":20},
            "tenant_budget":{"kind":"aws_standard","capacity":10},
            "learning":{"enabled":false}}"#,
    );
    let mut retried = 0;
    for _ in 0..12 {
        let mut ep = e.begin("q", Some("noisy")).unwrap();
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        retried += usize::from(r.should_retry());
        if !r.should_retry() {
            assert_eq!(r.clamps[0].guardrail, Guardrail::TenantBudget);
        }
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(retried, 2, "the tenant's 10 tokens pay for two retries");
    // the queue paid 10 of its 20 for those two; the ten refusals cost it nothing
    for _ in 0..2 {
        let mut ep = e.begin("q", Some("quiet")).unwrap();
        assert!(e
            .on_failure(&mut ep, &Failure::http(503))
            .unwrap()
            .should_retry());
    }
    let mut ep = e.begin("q", Some("quiet")).unwrap();
    let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(r.clamps[0].guardrail, Guardrail::Budget, "{r}");
}

#[test]
fn previews_create_no_budgets() {
    let (e, _) = engine(GRPC_4);
    let ep = e.begin("q", None).unwrap();
    assert_eq!(e.tracked_guards(), (1, 0));
    e.preview("other", Some("t"), &Failure::http(503), 3)
        .unwrap();
    e.recommend(&ep, &Failure::http(503)).unwrap();
    assert_eq!(e.tracked_guards(), (1, 0));
}

#[test]
fn a_million_keys_keep_budgets_and_breakers_at_their_bound() {
    // 250k keys by default (2.5x the bound: eviction runs); SMARTRETRY_LONG=1 runs the full
    // million (about 45 s in a debug build).
    let keys = if std::env::var_os("SMARTRETRY_LONG").is_some() {
        1_000_000
    } else {
        250_000
    };
    let (e, _) = engine(
        r#"{"budget":{"kind":"grpc","max_tokens":10,"token_ratio":0.1},
            "tenant_budget":{"kind":"aws_standard"},
            "breaker":{},
            "learning":{"enabled":false}}"#,
    );
    let bound = budget::MAX_TRACKED_KEYS;
    for i in 0..keys {
        let key = format!("k{i}");
        let mut ep = e.begin(&key, Some(&key)).unwrap();
        e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        if i % 4096 == 0 {
            let (budgets, breakers) = e.tracked_guards();
            assert!(
                budgets <= bound && breakers <= bound,
                "{budgets} {breakers} at {i}"
            );
        }
    }
    let (budgets, breakers) = e.tracked_guards();
    assert!(
        budgets <= bound && breakers <= bound,
        "{budgets} {breakers}"
    );
    assert!(
        budgets > bound / 2 && breakers > bound / 2,
        "{budgets} {breakers}"
    );
}

/// A budget backend that hands out shared buckets and records what the engine asked.
#[derive(Default)]
struct Recording {
    opened: parking_lot::Mutex<Vec<(budget::BudgetScope, String)>>,
    low: parking_lot::Mutex<Vec<String>>,
}

impl budget::BudgetBackend for Recording {
    fn open(
        &self,
        scope: budget::BudgetScope,
        name: &str,
        config: &BudgetConfig,
        now: Duration,
    ) -> budget::RetryBudget {
        self.opened.lock().push((scope, name.to_string()));
        budget::RetryBudget::shared(config.clone(), 0.5, now)
    }

    fn running_low(&self, _: budget::BudgetScope, name: &str) {
        self.low.lock().push(name.to_string());
    }
}

#[test]
fn a_budget_backend_opens_the_buckets_and_hears_when_they_run_low() {
    let (e, _) = engine(
        r#"{"budget":{"kind":"ratio","ratio":0,"min_per_sec":0,"capacity":8},
            "tenant_budget":{"kind":"ratio","ratio":0,"min_per_sec":0,"capacity":8}}"#,
    );
    let backend = Arc::new(Recording::default());
    e.set_budget_backend(backend.clone());
    let fail = |e: &Engine| {
        let mut ep = e.begin("q", Some("acme")).unwrap();
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        e.abandon(&mut ep);
        r.should_retry()
    };
    // Half of 8 tokens each, alone: four retries, then the budget says no.
    let allowed = (0..6).filter(|_| fail(&e)).count();
    assert_eq!(allowed, 4);
    assert_eq!(
        *backend.opened.lock(),
        vec![
            (budget::BudgetScope::Queue, "q".to_string()),
            (budget::BudgetScope::Tenant, "acme".to_string())
        ]
    );
    // Each new bucket asked for its first round once (no round ran, so never again).
    assert_eq!(
        *backend.low.lock(),
        vec!["q".to_string(), "acme".to_string()]
    );
    let mut shared = 0;
    e.for_each_budget(|_, _, b| shared += usize::from(b.is_shared() && !b.is_leasing()));
    assert_eq!(shared, 2);
    // A round answered: the bucket leases, and pays from what it was granted.
    let request = e
        .with_budget(budget::BudgetScope::Queue, "q", |b| b.begin_lease())
        .flatten()
        .unwrap();
    assert_eq!(request.credit, -4000, "what it made alone is owed");
    e.with_budget(budget::BudgetScope::Queue, "q", |b| {
        b.finish_lease(budget::LeaseAnswer {
            granted: 3000,
            level: 0,
        })
    });
    assert!(e
        .with_budget(budget::BudgetScope::Queue, "q", |b| b.is_leasing())
        .unwrap());
    // Back to local budgets: forgotten, and full again.
    e.set_budget_backend(Arc::new(budget::LocalBudgets));
    assert_eq!((0..10).filter(|_| fail(&e)).count(), 8);
}

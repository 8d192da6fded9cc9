//! `diagnose()` on a synthetic cluster of 5,000 pods on 50 nodes × 100 images (1 Deployment
//! in 20 broken). Run: `cargo bench --bench diagnose -- --quick`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kindscope::diagnose::testkit::{Synthetic, synthetic};
use kindscope::diagnose::{diagnose, report};

fn bench(c: &mut Criterion) {
    let cfg = Synthetic::default();
    let snap = synthetic(&cfg);
    let findings = diagnose(&snap);
    // Guard the benchmark's meaning: the broken Deployments and nothing else.
    let deployments = cfg.pods.div_ceil(cfg.replicas);
    assert_eq!(findings.len(), deployments.div_ceil(cfg.broken_every));
    assert_eq!(snap.pods.len(), cfg.pods);
    c.bench_function("diagnose/5000 pods, 50 nodes x 100 images", |b| {
        b.iter(|| diagnose(black_box(&snap)))
    });
    // What the commands run: findings plus the containers not started yet.
    assert!(report(&snap).pending.is_empty());
    c.bench_function("report/5000 pods, 50 nodes x 100 images", |b| {
        b.iter(|| report(black_box(&snap)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

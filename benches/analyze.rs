//! The whole analysis: `analysis::analyze` (internet IPv4/IPv6, on-premises and
//! application-to-application reachability) plus `findings::check`, on a loaded model.
//!
//! `cargo bench --bench analyze -- --warm-up-time 1 --measurement-time 3`
//! (`EXPOSURE_BENCH_LARGE=1` adds sizes l and xl). Criterion takes at least ten samples.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn analyze(c: &mut Criterion) {
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    for size in common::sizes() {
        let estate = common::Estate::new(size);
        let snap = estate.load();
        let config = exposure::findings::Config::default();
        g.bench_with_input(
            BenchmarkId::new("analyze_and_findings", size.as_str()),
            &snap.model,
            |b, m| {
                b.iter(|| {
                    let report = exposure::analysis::analyze(m);
                    let findings = exposure::findings::check(m, &report, &config);
                    black_box((report, findings))
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, analyze);
criterion_main!(benches);

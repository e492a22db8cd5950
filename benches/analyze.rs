//! The analysis plus `findings::check`, on a loaded model:
//! - `analyze_and_findings`: the whole report (internet IPv4/IPv6, on-premises and
//!   application-to-application reachability), on size s only: application-to-application
//!   reach is enumerated pair by pair and does not fit larger estates yet (BENCHMARKS.md);
//! - `outside_and_findings`: the report without application-to-application reach
//!   (`analyze --no-app-to-app`), on every size;
//! - `findings`: `findings::check` alone, on that report (computed once), on every size.
//!
//! `cargo bench --bench analyze -- --warm-up-time 1 --measurement-time 3`
//! (`EXPOSURE_BENCH_LARGE=1` adds sizes l and xl). Criterion takes at least ten samples.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

/// The same allocator as the `exposure` binary, so that the figures match the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn analyze(c: &mut Criterion) {
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    for size in common::sizes() {
        let estate = common::Estate::new(size);
        let snap = estate.load();
        let config = exposure::findings::Config::default();
        let outside = exposure::analysis::Options {
            app_to_app: false,
            ..Default::default()
        };
        g.bench_with_input(
            BenchmarkId::new("outside_and_findings", size.as_str()),
            &snap.model,
            |b, m| {
                b.iter(|| {
                    let report = exposure::analysis::analyze_with_options(m, &outside);
                    let findings = exposure::findings::check(m, &report, &config);
                    black_box((report, findings))
                })
            },
        );
        let report = exposure::analysis::analyze_with_options(&snap.model, &outside);
        g.bench_with_input(
            BenchmarkId::new("findings", size.as_str()),
            &(&snap.model, &report),
            |b, (m, report)| b.iter(|| black_box(exposure::findings::check(m, report, &config))),
        );
        drop(report);
        if size.as_str() != "s" {
            continue;
        }
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

//! Loading: the JSON-parse floor (one thread, and every core), `sources::load_path` (read,
//! parse, convert, validate, in parallel), the same from memory, and building the engine's
//! index (hosts and the reachability graph). Times include dropping what was built.
//!
//! `cargo bench --bench load -- --warm-up-time 1 --measurement-time 3`
//! (`EXPOSURE_BENCH_LARGE=1` adds sizes l and xl).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rayon::prelude::*;
use std::hint::black_box;

/// The same allocator as the `exposure` binary, so that the figures match the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    for size in common::sizes() {
        let estate = common::Estate::new(size);
        let files = estate.files();
        let bytes: u64 = files.iter().map(|f| f.contents.len() as u64).sum();
        g.throughput(criterion::Throughput::Bytes(bytes));
        // The floor: parse every file into a serde_json::Value, nothing else.
        g.bench_with_input(
            BenchmarkId::new("parse_only", size.as_str()),
            &files,
            |b, files| {
                b.iter(|| {
                    for f in files {
                        let v: serde_json::Value =
                            serde_json::from_slice(&f.contents).expect("valid JSON");
                        black_box(v);
                    }
                })
            },
        );
        // The same on every core (the loader reads files in parallel): the floor for it.
        g.bench_with_input(
            BenchmarkId::new("parse_only_parallel", size.as_str()),
            &files,
            |b, files| {
                b.iter(|| {
                    files.par_iter().for_each(|f| {
                        let v: serde_json::Value =
                            serde_json::from_slice(&f.contents).expect("valid JSON");
                        black_box(v);
                    })
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("load_path", size.as_str()),
            &estate,
            |b, e| b.iter(|| black_box(e.load())),
        );
        g.bench_with_input(
            BenchmarkId::new("load_files", size.as_str()),
            &files,
            |b, files| {
                b.iter(|| black_box(exposure::sources::load_files("bench", files).expect("loads")))
            },
        );
        let snap = estate.load();
        g.bench_with_input(
            BenchmarkId::new("model_build_index", size.as_str()),
            &snap.model,
            |b, m| b.iter(|| black_box(exposure::engine::index::Index::new(m))),
        );
    }
    g.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);

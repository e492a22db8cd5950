//! One query after loading (the index built once): `engine::query::run_indexed`.
//!
//! `cargo bench --bench query -- --warm-up-time 1 --measurement-time 3`
//! (`EXPOSURE_BENCH_LARGE=1` adds sizes l and xl).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use exposure::engine::index::Index;
use exposure::engine::query::{run_indexed, Request};
use exposure::model::OwnerKind;
use std::hint::black_box;

/// The same allocator as the `exposure` binary, so that the figures match the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn query(c: &mut Criterion) {
    let mut g = c.benchmark_group("query");
    for size in common::sizes() {
        let estate = common::Estate::new(size);
        let snap = estate.load();
        let m = &snap.model;
        let idx = Index::new(m);
        // The internet to the first internet-facing load balancer (listener, then targets).
        let lb = m
            .load_balancers
            .values()
            .find(|l| l.internet_facing)
            .unwrap_or_else(|| m.load_balancers.values().next().expect("a load balancer"));
        let to_lb = Request::parse("internet", &lb.name, None, None, None).expect("request");
        // An instance to an RDS interface of another VPC (peering or transit gateway), any traffic.
        let ec2 = m
            .network_interfaces
            .values()
            .find(|e| e.owner.kind == OwnerKind::Ec2Instance)
            .expect("an instance");
        let rds = m
            .network_interfaces
            .values()
            .find(|e| e.owner.kind == OwnerKind::Rds && e.vpc_id != ec2.vpc_id)
            .expect("an RDS interface in another VPC");
        let across = Request::parse(&ec2.id, &rds.id, None, None, None).expect("request");
        for (name, req) in [
            ("internet_to_lb", &to_lb),
            ("eni_to_rds_other_vpc", &across),
        ] {
            run_indexed(m, &idx, req).expect("answers");
            g.bench_with_input(BenchmarkId::new(name, size.as_str()), req, |b, req| {
                b.iter(|| black_box(run_indexed(m, &idx, req).expect("answers")))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);

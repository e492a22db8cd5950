//! Equality tests of the all-pairs analysis (issue: "results must be identical to the
//! ungrouped evaluation (test on s and on random small estates)").
//!
//! * Grouped (`Grouping::Classes`: one class per application and subnet) against ungrouped
//!   (`Grouping::PerInterface`) evaluation: the reports must be identical — the same
//!   applications and the same multiset of exposures, every field (source, target, status,
//!   traffic, entries, members exposed, blockers). On the generated `s` estate thinned to fit
//!   the debug budget, on the whole `s` estate when `EXPOSURE_EQUALITY_S=1` (about a minute
//!   in a debug build, so not by default), and on random small estates.
//!
//! Random estates: `equality/estates.rs` (the brute-force generator's estates, extended with
//! load balancers, NAT gateways, VPN and transit gateways, IPv6 and interfaces of other
//! kinds). Seeds come from proptest's deterministic RNG, so every run checks the same
//! estates. A failure is shrunk (`equality/shrink.rs`) and printed with its seed.
//!
//! Knobs: `EQUALITY_CASES` (random estates, default 200), `EQUALITY_SEED` (check that one
//! seed only, decimal or 0x-hex).

mod estates;
mod reports;
mod shrink;

use std::time::Instant;

use exposure::analysis::{analyze_with, Grouping};
use exposure::model::Model;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim().to_string();
            match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => v.parse().ok(),
            }
        })
        .unwrap_or(default)
}

/// The seeds to check: `EQUALITY_SEED` alone, or `cases` seeds from proptest's deterministic
/// RNG (the same every run).
fn seeds(cases: u64) -> Vec<u64> {
    if std::env::var_os("EQUALITY_SEED").is_some() {
        return vec![env_num("EQUALITY_SEED", 0)];
    }
    let mut runner = TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = any::<u64>();
    (0..cases)
        .map(|_| strategy.new_tree(&mut runner).expect("a seed").current())
        .collect()
}

/// The differences between the grouped and the ungrouped report of `m`.
fn grouping_differences(m: &Model) -> Vec<String> {
    let grouped = analyze_with(m, Grouping::Classes);
    let ungrouped = analyze_with(m, Grouping::PerInterface);
    reports::differences(("grouped", &grouped), ("ungrouped", &ungrouped))
}

/// Asserts that grouping does not change the report of `m`; `what` names the estate.
fn assert_grouping_irrelevant(what: &str, m: &Model) {
    let t = Instant::now();
    let grouped = analyze_with(m, Grouping::Classes);
    let tg = t.elapsed();
    let t = Instant::now();
    let ungrouped = analyze_with(m, Grouping::PerInterface);
    let tu = t.elapsed();
    eprintln!(
        "{what}: {} interfaces, {} applications, {} exposures; grouped {tg:.1?}, ungrouped {tu:.1?}",
        m.network_interfaces.len(),
        grouped.applications.len(),
        grouped.exposures.len()
    );
    let diff = reports::differences(("grouped", &grouped), ("ungrouped", &ungrouped));
    assert!(
        diff.is_empty(),
        "{what}: the grouped and ungrouped reports differ ({} lines):\n{}",
        diff.len(),
        reports::head(&diff, 40)
    );
    assert!(
        !grouped.exposures.is_empty(),
        "{what}: an empty report proves nothing"
    );
}

/// The generated `s` estate thinned to about a quarter of its interfaces (every load-balancer,
/// NAT and transit-gateway interface kept; classes sampled by hash, at most three members
/// each), so that both evaluations fit the debug budget. The whole estate is checked by
/// [`grouped_equals_ungrouped_on_generated_s`] when asked for.
#[test]
fn grouped_equals_ungrouped_on_thinned_s() {
    let m = estates::thinned_s(25, 3);
    assert_grouping_irrelevant("generated s (thinned)", &m);
}

/// The whole generated `s` estate (seed 1). About 27 s grouped and 33 s ungrouped in a debug
/// build, so it runs only with `EXPOSURE_EQUALITY_S=1` (in release:
/// `EXPOSURE_EQUALITY_S=1 cargo test --release --test integration grouped_equals_ungrouped_on_generated_s`).
#[test]
fn grouped_equals_ungrouped_on_generated_s() {
    if std::env::var("EXPOSURE_EQUALITY_S").as_deref() != Ok("1") {
        eprintln!("grouped_equals_ungrouped_on_generated_s: set EXPOSURE_EQUALITY_S=1 to run it");
        return;
    }
    let m = estates::generated_s();
    assert_grouping_irrelevant("generated s", &m);
}

/// Random small estates: the grouped and ungrouped reports are identical.
#[test]
fn grouped_equals_ungrouped_on_random_estates() {
    let cases = env_num("EQUALITY_CASES", 200);
    let t = Instant::now();
    let mut interfaces = 0;
    let mut multi = 0;
    let mut exposures = 0;
    for seed in seeds(cases) {
        let m = estates::random_model(seed);
        interfaces += m.network_interfaces.len();
        let grouped = analyze_with(&m, Grouping::Classes);
        exposures += grouped.exposures.len();
        let idx = exposure::engine::index::Index::new(&m);
        multi += grouped
            .applications
            .iter()
            .filter(|a| {
                let mut subnets: Vec<&str> = a
                    .members
                    .iter()
                    .map(|h| idx.hosts[h].subnet_id.as_str())
                    .collect();
                let n = subnets.len();
                subnets.sort();
                subnets.dedup();
                subnets.len() < n
            })
            .count();
        let diff = grouping_differences(&m);
        if diff.is_empty() {
            continue;
        }
        let small = shrink::shrink(&m, |c| !grouping_differences(c).is_empty(), 400);
        let diff = grouping_differences(&small);
        panic!(
            "seed {seed:#x}: the grouped and ungrouped reports differ. Shrunk estate:\n{}\ndifferences:\n{}",
            shrink::describe(&small),
            reports::head(&diff, 40)
        );
    }
    eprintln!(
        "grouping: {cases} random estates, {interfaces} interfaces, {multi} applications with a multi-member class, {exposures} exposures, identical; {:.1?}",
        t.elapsed()
    );
}

//! Equality tests of the all-pairs analysis (issue: "results must be identical to the
//! ungrouped evaluation (test on s and on random small estates)").
//!
//! * Grouped (`Grouping::Classes`: one class per application and subnet) against ungrouped
//!   (`Grouping::PerInterface`) evaluation: the reports must be identical — the same
//!   applications and the same multiset of exposures, every field (source, target, status,
//!   traffic, entries, members exposed, blockers). On the generated `s` estate thinned to fit
//!   the debug budget, on the whole `s` estate when `EXPOSURE_EQUALITY_S=1` (about a minute
//!   in a debug build, so not by default), and on random small estates.
//! * The report against the single-question walker (`query::run`, the reference semantics):
//!   see `equality/queries.rs`.
//!
//! Random estates: `equality/estates.rs` (the brute-force generator's estates, extended with
//! load balancers, NAT gateways, VPN and transit gateways, IPv6 and interfaces of other
//! kinds). Seeds come from proptest's deterministic RNG, so every run checks the same
//! estates. A failure is shrunk (`equality/shrink.rs`) and printed with its seed.
//!
//! Knobs: `EQUALITY_CASES` (random estates for the grouping test, default 200; the walker
//! test runs two fifths of it), `EQUALITY_SEED` (check that one seed only, decimal or 0x-hex),
//! `EQUALITY_DEBUG` (print every single question the walker test asks, with its answer).

mod estates;
mod queries;
mod reports;
mod shrink;

use std::collections::BTreeMap;
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

/// The transit-gateway fixtures (hand-made estates whose attachment subnets differ in route
/// table or NACL, or hold instances): the report agrees with the single-question walker for
/// every (origin, application) pair, as on the random estates.
#[test]
fn allpairs_agrees_with_single_questions_on_tgw_fixtures() {
    agrees_on_fixtures("tgw-", 8);
}

/// The NLB fixtures (client IP preservation per address family, and where AWS does not support
/// it: targets behind a transit gateway, old instance families, PrivateLink interfaces): the
/// report agrees with the single-question walker for every (origin, application) pair.
#[test]
fn allpairs_agrees_with_single_questions_on_nlb_fixtures() {
    agrees_on_fixtures("nlb-", 6);
}

/// The report agrees with the single-question walker on every semantics fixture whose name
/// starts with `prefix` (at least `at_least` of them).
fn agrees_on_fixtures(prefix: &str, at_least: usize) {
    let dir = crate::common::path("fixtures/semantics");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    assert!(names.len() >= at_least, "the {prefix}* fixtures: {names:?}");
    let mut text = String::new();
    for name in &names {
        let m = exposure::sources::load_path(&dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .model;
        let (counts, found) = queries::check(&m, None);
        assert!(counts.member_pairs > 0, "{name}: nothing compared");
        for d in found {
            text += &format!(
                "{name}: {:?} -> {} ({}): {}\n",
                d.origin, d.target_member, d.kind, d.detail
            );
        }
    }
    assert!(
        text.is_empty(),
        "the report and the walker disagree:\n{text}"
    );
}

/// Every semantics fixture (load balancers without interfaces, references, routes, ...).
#[test]
fn allpairs_agrees_with_single_questions_on_all_fixtures() {
    agrees_on_fixtures("", 60);
}

/// Random small estates: the report agrees with the single-question walker for every
/// (origin, application) pair; see `equality/queries.rs`. Every estate is checked; on
/// failure, one shrunk reproduction per kind of disagreement is printed.
#[test]
fn allpairs_agrees_with_single_questions() {
    let cases = (env_num("EQUALITY_CASES", 200) * 2 / 5).max(1);
    let t = Instant::now();
    let mut total = queries::Counts::default();
    // Per kind: how many, and the smallest estate showing it.
    let mut kinds: BTreeMap<String, (usize, u64, Model, queries::Disagreement)> = BTreeMap::new();
    // Seeds that once disagreed, checked on every run (unless `EQUALITY_SEED` picks one):
    // replies over a peering after a request through a transit gateway, which the report
    // dropped at an attachment subnet's NACL they never meet (session 15).
    let regressions: &[u64] = if std::env::var_os("EQUALITY_SEED").is_some() {
        &[]
    } else {
        &[0x7a5020f2951b9921, 0xe743b21b8e70aaa6]
    };
    for seed in seeds(cases).into_iter().chain(regressions.iter().copied()) {
        let m = estates::random_model(seed);
        let (counts, found) = queries::check(&m, None);
        total += counts;
        for d in found {
            let size = m.network_interfaces.len();
            match kinds.get_mut(&d.kind) {
                Some(k) => {
                    k.0 += 1;
                    if size < k.2.network_interfaces.len() {
                        (k.1, k.2, k.3) = (seed, m.clone(), d);
                    }
                }
                None => {
                    kinds.insert(d.kind.clone(), (1, seed, m.clone(), d));
                }
            }
        }
    }
    eprintln!(
        "walker: {cases} random estates and {} regression seeds, {} (origin, application) pairs compared ({} reached, {} left out for paths through an internet or NAT gateway), {} member pairs, {} questions; {:.1?}",
        regressions.len(),
        total.pairs,
        total.reached,
        total.skipped,
        total.member_pairs,
        total.queries,
        t.elapsed()
    );
    if kinds.is_empty() {
        return;
    }
    let mut text = String::new();
    for (kind, (n, seed, m, d)) in &kinds {
        let (origin, target) = (d.origin.clone(), d.target_member.clone());
        let fails = |c: &Model| {
            queries::check(c, Some((&origin, &target)))
                .1
                .iter()
                .any(|x| x.kind == *kind)
        };
        let small = shrink::shrink(m, fails, 400);
        let (_, again) = queries::check(&small, Some((&origin, &target)));
        let detail = again
            .iter()
            .find(|x| x.kind == *kind)
            .map(|x| x.detail.clone())
            .unwrap_or_else(|| {
                let again = (0..5).filter(|_| fails(&small)).count();
                format!("(the shrunk estate no longer shows it: it shows it in {again} of 5 more runs, so the engine is not deterministic on it)")
            });
        text += &format!(
            "=== {kind}: {n} time(s); shrunk from seed {seed:#x} (origin {origin:?}, a member of the target: {target}) ===\n{}\n{detail}\n",
            shrink::describe(&small)
        );
    }
    panic!(
        "the report and the walker disagree ({} kind(s)):\n{text}",
        kinds.len()
    );
}

/// The sliced route partition (one sorted partition per subnet, built on first use) cuts
/// every set exactly as restricting it route by route does: same routes, same order, same
/// boxes, on every subnet of the generated `s` estate and for sets cut along either address.
/// And a transit gateway table's `choices` are the routes its `partition` gives parts to, and
/// its `partition_by_target` joins the parts of the routes to one target.
#[test]
fn route_lookups_equal_their_references_on_generated_s() {
    use exposure::engine::index::Index;
    use exposure::engine::packet::{net_intervals, Dim, PBox, PacketSet};
    let m = estates::generated_s();
    let idx = Index::new(&m);
    let nets = [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "0.0.0.0/0",
        "172.16.0.0/12",
        "::/0",
    ];
    let mut sets = vec![PacketSet::from_box(PBox::FULL)];
    for (k, n) in nets.iter().enumerate() {
        let iv = net_intervals(&n.parse().unwrap());
        let b = PBox::FULL.with(Dim::DstPort, (k as u128 * 100, 65535));
        sets.push(PacketSet::from_box(b).restrict(Dim::Src, &iv));
        sets.push(PacketSet::from_box(b).restrict(Dim::Dst, &iv));
    }
    let mut compared = 0;
    for subnet in m.subnets.keys() {
        for set in &sets {
            for dim in [Dim::Src, Dim::Dst] {
                let sliced = idx.graph.route_partition(subnet, set, dim);
                let reference = idx.graph.route_partition_by_edges(subnet, set, dim);
                assert_eq!(
                    format!("{sliced:?}"),
                    format!("{reference:?}"),
                    "{subnet} {dim:?}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} partitions compared");
    // Transit gateway tables: the routes looked up without cutting are the partition's.
    let mut tables = 0;
    for routes in idx.tgw_routes.values() {
        for set in &sets {
            for dim in [Dim::Src, Dim::Dst] {
                let want: Vec<String> = routes
                    .partition(set, dim)
                    .iter()
                    .map(|(c, _)| format!("{c:?}"))
                    .collect();
                let got: Vec<String> = routes
                    .choices(set, dim)
                    .iter()
                    .map(|c| format!("{:?}", c.cloned()))
                    .collect();
                assert_eq!(got, want);
                // By target: the parts of the routes to one target, joined, and every such
                // route's destination named.
                let mut joined: std::collections::BTreeMap<String, (PacketSet, Vec<String>)> =
                    Default::default();
                for (c, part) in routes.partition(set, dim) {
                    let key = format!("{:?}", c.as_ref().map(|c| (c.blackhole, &c.attachments)));
                    let e = joined
                        .entry(key)
                        .or_insert((PacketSet::empty(), Vec::new()));
                    e.0 = e.0.union(&part);
                    e.1.extend(c.map(|c| c.destination));
                }
                let by_target = routes.partition_by_target(set, dim);
                assert_eq!(by_target.len(), joined.len(), "{dim:?}");
                for (c, part) in by_target {
                    let key = format!("{:?}", c.as_ref().map(|c| (c.blackhole, &c.attachments)));
                    let (want, dests) = &joined[&key];
                    assert!(
                        part.subtract(want).is_empty() && want.subtract(&part).is_empty(),
                        "{key} {dim:?}"
                    );
                    let named: Vec<&str> = c
                        .as_ref()
                        .map(|c| c.destination.split(", ").collect())
                        .unwrap_or_default();
                    for d in dests {
                        assert!(named.contains(&d.as_str()), "{key}: {d} not in {named:?}");
                    }
                }
            }
        }
        tables += 1;
    }
    assert!(tables > 0, "the estate has transit gateway route tables");
}

/// The index's subnet associations (NACL and route table, looked up in maps) are the model's
/// (found by scanning: explicit association first, else the VPC's default NACL or main table),
/// subnet by subnet: on every fixture, the generated `s` estate and random estates, each also
/// with the ties AWS does not produce but a snapshot may hold (a subnet explicitly associated
/// with a second table and a second NACL, a second main table and default NACL in its VPC, a
/// VPC without either).
#[test]
fn index_associations_equal_the_models() {
    use exposure::engine::index::Index;
    fn differences(what: &str, m: &Model) -> Vec<String> {
        let idx = Index::new(m);
        let mut out = Vec::new();
        for id in m.subnets.keys() {
            let model = (
                m.subnet_nacl(id).map(|n| &n.id),
                m.subnet_route_table(id).map(|t| &t.id),
            );
            let index = (
                idx.subnet_nacl(id).map(|n| &n.id),
                idx.subnet_route_table(id).map(|t| &t.id),
            );
            if model != index {
                out.push(format!("{what}: {id}: model {model:?}, index {index:?}"));
            }
        }
        out
    }
    /// The same estate with ties added around its first subnet (ids that sort before and
    /// after the originals), and with its first VPC's main table and default NACL gone.
    fn with_ties(m: &Model) -> Vec<Model> {
        let Some(subnet) = m.subnets.values().next().cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for suffix in ["0000", "zzzz"] {
            let mut t = m.clone();
            if let Some(rt) = t.route_tables.values().next().cloned() {
                let id = format!("rtb-{suffix}");
                let mut extra = rt.clone();
                extra.id = id.clone();
                extra.vpc_id = subnet.vpc_id.clone();
                extra.subnet_ids = vec![subnet.id.clone()];
                extra.is_main = true;
                t.route_tables.insert(id, extra);
            }
            if let Some(nacl) = t.network_acls.values().next().cloned() {
                let id = format!("acl-{suffix}");
                let mut extra = nacl.clone();
                extra.id = id.clone();
                extra.vpc_id = subnet.vpc_id.clone();
                extra.subnet_ids = vec![subnet.id.clone()];
                extra.is_default = true;
                t.network_acls.insert(id, extra);
            }
            out.push(t);
        }
        let mut bare = m.clone();
        bare.route_tables
            .retain(|_, t| !(t.is_main && t.vpc_id == subnet.vpc_id));
        bare.network_acls
            .retain(|_, n| !(n.is_default && n.vpc_id == subnet.vpc_id));
        out.push(bare);
        out
    }
    let mut models: Vec<(String, Model)> = Vec::new();
    for kind in ["semantics", "edge"] {
        let dir = crate::common::path(&format!("fixtures/{kind}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if let Ok(loaded) = exposure::sources::load_path(&dir.join(&name)) {
                models.push((format!("{kind}/{name}"), loaded.model));
            }
        }
    }
    models.push(("generated s".into(), estates::generated_s()));
    for seed in seeds(env_num("EQUALITY_CASES", 200)) {
        models.push((format!("seed {seed:#x}"), estates::random_model(seed)));
    }
    let mut subnets = 0;
    let mut text = Vec::new();
    for (what, m) in &models {
        subnets += m.subnets.len();
        text.extend(differences(what, m));
        for (k, t) in with_ties(m).iter().enumerate() {
            subnets += t.subnets.len();
            text.extend(differences(&format!("{what} (ties {k})"), t));
        }
    }
    assert!(
        models.len() > 100 && subnets > 1000,
        "only {} estates, {subnets} subnets compared",
        models.len()
    );
    assert!(text.is_empty(), "{}", reports::head(&text, 40));
}

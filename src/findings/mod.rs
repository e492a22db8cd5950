//! Findings: risky configuration, each with a stable kebab-case code.
//!
//! The exposure report says what can reach what; findings name the
//! configuration that makes it so (a security-group rule, a NACL entry, a
//! listener, a subnet placement) and say what to change. Every check is a
//! pure function of the model and the exposure report, so that a finding's
//! severity can follow the exposure it creates: the rule's registered
//! severity when the exposure is effective today, low when it is only latent
//! (a security group admits it but routing, NACLs or a missing public address
//! stop it). The user's `exposure.toml` may then override or suppress
//! findings per code ([`Config`]).
//!
//! Every code is registered in [`registry`] and documented under its own
//! heading in `docs/findings.md`; a test keeps the two in step.
//!
//! Architecture invariant: no I/O, no AWS wire types, deterministic output
//! (ordered maps everywhere, and the result is sorted).

mod config;
mod context;
mod internet;
mod load_balancers;
mod nacl;
mod security_groups;

use std::fmt;

use rayon::prelude::*;

use crate::analysis::{Report, Status};
use crate::engine::index::Index;
use crate::model::Model;

pub use config::Config;

/// How serious a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in configuration and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a severity name (case-insensitive).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Severity after effective-reachability adjustment and configuration overrides.
    pub severity: Severity,
    /// One-line statement of this instance.
    pub message: String,
    /// Resource ids involved (SGs, ENIs, subnets, NACLs, LBs...).
    pub resources: Vec<String>,
    /// The rules involved, as text (`sg-… inbound tcp 22 0.0.0.0/0`, `acl-… rule 110`).
    pub rules: Vec<String>,
    /// What to do.
    pub remediation: String,
}

impl Finding {
    /// A finding with the registered remediation text and no resources yet.
    fn new(code: &'static str, severity: Severity, message: String) -> Finding {
        debug_assert!(
            rule(code).is_some(),
            "finding code {code} is not registered"
        );
        Finding {
            code,
            severity,
            message,
            resources: Vec::new(),
            rules: Vec::new(),
            remediation: rule(code)
                .map(|r| r.remediation.to_string())
                .unwrap_or_default(),
        }
    }

    fn resources(mut self, ids: impl IntoIterator<Item = String>) -> Finding {
        // First-seen order, each once: a set of the ids (borrowed, not copied) beside the list
        // keeps long lists linear.
        self.resources.extend(ids);
        let first: Vec<bool> = {
            let mut seen: std::collections::HashSet<&str, foldhash::fast::FixedState> =
                Default::default();
            self.resources
                .iter()
                .map(|id| seen.insert(id.as_str()))
                .collect()
        };
        let mut first = first.into_iter();
        self.resources.retain(|_| first.next().unwrap_or(false));
        self
    }

    fn rules(mut self, rules: impl IntoIterator<Item = String>) -> Finding {
        for r in rules {
            if !self.rules.contains(&r) {
                self.rules.push(r);
            }
        }
        self
    }

    fn remediation(mut self, text: String) -> Finding {
        self.remediation = text;
        self
    }
}

/// A registered check: what its findings mean, independent of any estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Short title.
    pub title: &'static str,
    /// Severity when the exposure the finding describes is effective today.
    pub default_severity: Severity,
    /// What triggers the finding and why it matters.
    pub description: &'static str,
    /// What to do, in general (each finding carries its own, more specific text).
    pub remediation: &'static str,
}

/// The codes, as constants so that a check cannot misspell one.
pub(crate) mod codes {
    pub const SG_CIDR_WHERE_REFERENCE_FITS: &str = "sg-cidr-where-reference-fits";
    pub const SG_OPEN_TO_WORLD: &str = "sg-open-to-world";
    pub const SG_WIDE_CIDR: &str = "sg-wide-cidr";
    pub const SG_ALL_PORTS: &str = "sg-all-ports";
    pub const INTERNET_ADMIN_PORT: &str = "internet-admin-port";
    pub const INTERNET_DATA_STORE: &str = "internet-data-store";
    pub const PUBLIC_SUBNET_NON_LB: &str = "public-subnet-non-lb";
    pub const DEFAULT_SG_HAS_RULES: &str = "default-sg-has-rules";
    pub const DEFAULT_SG_IN_USE: &str = "default-sg-in-use";
    pub const SG_UNUSED: &str = "sg-unused";
    pub const SG_STALE_REFERENCE: &str = "sg-stale-reference";
    pub const NACL_RULE_SHADOWED: &str = "nacl-rule-shadowed";
    pub const NACL_BLOCKS_RETURN: &str = "nacl-blocks-return";
    pub const LB_TARGET_BYPASS: &str = "lb-target-bypass";
    pub const LB_PLAINTEXT_LISTENER: &str = "lb-plaintext-listener";
}

static RULES: &[Rule] = &[
    Rule {
        code: codes::SG_CIDR_WHERE_REFERENCE_FITS,
        title: "Security-group rule names a CIDR where a group reference would state the intent",
        default_severity: Severity::Medium,
        description: "An inbound rule admits a CIDR (other than 0.0.0.0/0 or ::/0) that holds network interfaces of the group's own VPC. It admits whatever sits in that range, now and later, not just the clients it was written for. A reference to the clients' security group admits exactly that group's members.",
        remediation: "Replace the CIDR with a reference to the security groups of the clients that need the port.",
    },
    Rule {
        code: codes::SG_OPEN_TO_WORLD,
        title: "Security group admits the whole internet",
        default_severity: Severity::High,
        description: "An inbound rule admits 0.0.0.0/0 or ::/0. Rules on a load balancer's group for its own listener ports are expected and not reported.",
        remediation: "Admit only the clients that need the port: a load balancer's security group, a prefix list, or specific CIDRs.",
    },
    Rule {
        code: codes::SG_WIDE_CIDR,
        title: "Security group admits a CIDR wider than the configured prefix length",
        default_severity: Severity::Medium,
        description: "An inbound rule admits a CIDR shorter than `wide_prefix_v4` (IPv4, default /16) or `wide_prefix_v6` (IPv6, default /48); 0.0.0.0/0 and ::/0 are reported as sg-open-to-world instead.",
        remediation: "Narrow the CIDR to the clients that need the port, or reference their security group.",
    },
    Rule {
        code: codes::SG_ALL_PORTS,
        title: "Security group admits all ports or all protocols",
        default_severity: Severity::Medium,
        description: "An inbound rule admits every protocol (-1) or every TCP or UDP port (0-65535) from a peer other than the group itself.",
        remediation: "Admit only the protocols and ports the service listens on.",
    },
    Rule {
        code: codes::INTERNET_ADMIN_PORT,
        title: "Administrative port reachable from the internet",
        default_severity: Severity::High,
        description: "The exposure report shows the internet reaching an administrative port (SSH, RDP, Telnet, VNC, WinRM, Docker API) through a rule wider than the configured prefix length.",
        remediation: "Close the port to the internet: use AWS Systems Manager Session Manager or EC2 Instance Connect Endpoint, or admit only specific addresses.",
    },
    Rule {
        code: codes::INTERNET_DATA_STORE,
        title: "Data store reachable from the internet",
        default_severity: Severity::Critical,
        description: "The exposure report shows the internet reaching a well-known data-store port (PostgreSQL, MySQL, SQL Server, Oracle, Redis, MongoDB, Elasticsearch, Memcached, Redshift, Cassandra and others) or any port of an RDS or ElastiCache network interface.",
        remediation: "Keep data stores in private subnets without public addresses and admit only the application's security group.",
    },
    Rule {
        code: codes::PUBLIC_SUBNET_NON_LB,
        title: "Resource other than a load balancer or NAT gateway in a public subnet",
        default_severity: Severity::Medium,
        description: "A network interface that does not belong to a load balancer, NAT gateway or another AWS-managed gateway sits in a public subnet (its route table routes to an internet gateway).",
        remediation: "Move the resource to a private subnet and reach it through a load balancer, or through Session Manager for administration.",
    },
    Rule {
        code: codes::DEFAULT_SG_HAS_RULES,
        title: "Default security group has rules",
        default_severity: Severity::Medium,
        description: "A VPC's default security group (GroupName `default`) has inbound or outbound rules. Anything launched without an explicit group gets it.",
        remediation: "Remove every inbound and outbound rule from the default security group, and give resources groups of their own.",
    },
    Rule {
        code: codes::DEFAULT_SG_IN_USE,
        title: "Default security group in use",
        default_severity: Severity::Medium,
        description: "A network interface, load balancer, VPC endpoint or database uses a VPC's default security group.",
        remediation: "Give the resource a purpose-made security group and detach the default group.",
    },
    Rule {
        code: codes::SG_UNUSED,
        title: "Security group not used by anything",
        default_severity: Severity::Info,
        description: "No network interface, load balancer, VPC endpoint or database uses the security group. Default groups are reported by their own checks.",
        remediation: "Delete the group, after removing the rules of other groups that reference it.",
    },
    Rule {
        code: codes::SG_STALE_REFERENCE,
        title: "Security-group rule references a group that does not exist",
        default_severity: Severity::Low,
        description: "A rule names a security group absent from the snapshot although it would be there (same account, a VPC in the snapshot), or names a peering connection that is no longer active. The rule matches nothing. (A prefix list missing from the snapshot was not collected: EC2 does not delete a referenced list.)",
        remediation: "Delete the stale rule, or point it at the group that replaced the missing one.",
    },
    Rule {
        code: codes::NACL_RULE_SHADOWED,
        title: "Network ACL rule shadowed by an earlier rule",
        default_severity: Severity::Medium,
        description: "Every packet a NACL rule matches is matched first by rules with lower numbers, so the rule never applies. When the actions differ, the traffic the rule was written for gets the opposite verdict.",
        remediation: "Renumber the rule below the rules that shadow it, or delete it.",
    },
    Rule {
        code: codes::NACL_BLOCKS_RETURN,
        title: "Network ACL allows a flow but blocks its replies",
        default_severity: Severity::Low,
        description: "A NACL rule allows connections in one direction, but the NACL's rules in the other direction deny the replies to every ephemeral port (1024-65535), so those connections can never complete. Rules that serve as reply rules for flows allowed the other way are not reported.",
        remediation: "Allow the replies: TCP and UDP to ports 1024-65535 of the same peers in the opposite direction.",
    },
    Rule {
        code: codes::LB_TARGET_BYPASS,
        title: "Load-balancer target admits its port from anywhere",
        default_severity: Severity::High,
        description: "A target registered with a load balancer has a security group that admits the target port from 0.0.0.0/0 or ::/0, so clients can skip the load balancer (and its TLS, WAF and logging).",
        remediation: "Admit the target port only from the load balancer's security group (or its subnets' CIDRs).",
    },
    Rule {
        code: codes::LB_PLAINTEXT_LISTENER,
        title: "Internet-facing load balancer forwards plain-text traffic",
        default_severity: Severity::Medium,
        description: "An internet-facing load balancer has an HTTP, TCP or TCP_UDP listener that forwards to targets, by its default action or any rule. A listener that only redirects (HTTP to HTTPS) is fine, and TCP listeners on ports whose protocols carry their own TLS (443, 8443, 22, ...) are not reported.",
        remediation: "Use HTTPS or TLS listeners, and turn the HTTP listener into a redirect to HTTPS.",
    },
];

/// Every registered check, in documentation order.
pub fn registry() -> &'static [Rule] {
    RULES
}

/// The registered check with a code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// The severity of a finding whose exposure has the given status: the rule's
/// default when effective, low (at most) when latent or when nothing is exposed.
fn graded(default: Severity, status: Option<Status>) -> Severity {
    match status {
        Some(Status::Effective) => default,
        _ => default.min(Severity::Low),
    }
}

/// Runs every check, applies the configuration and sorts the findings
/// (most severe first, then by code, resources and message).
pub fn check(m: &Model, report: &Report, cfg: &Config) -> Vec<Finding> {
    // The NACL checks read the model alone: they run while the engine's index is built.
    let (idx, nacl_found) = rayon::join(|| Index::new(m), || nacl_findings(m));
    run(context::Context::new(m, &idx, report), cfg, nacl_found)
}

/// The same as [`check`], with the engine's index of `m` already built (the analysis's).
pub fn check_indexed(m: &Model, idx: &Index, report: &Report, cfg: &Config) -> Vec<Finding> {
    let (cx, nacl_found) = rayon::join(
        || context::Context::new(m, idx, report),
        || nacl_findings(m),
    );
    run(cx, cfg, nacl_found)
}

fn nacl_findings(m: &Model) -> Vec<Finding> {
    let mut out = Vec::new();
    nacl::check(m, &mut out);
    out
}

/// Runs the checks that read the report, beside each other; the findings are concatenated
/// in a fixed order (security groups, internet, load balancers, NACLs) before sorting.
fn run(cx: context::Context, cfg: &Config, nacl_found: Vec<Finding>) -> Vec<Finding> {
    let (mut out, rest) = rayon::join(
        || {
            let mut out = Vec::new();
            security_groups::check(&cx, cfg, &mut out);
            out
        },
        || {
            let mut out = Vec::new();
            internet::check(&cx, cfg, &mut out);
            load_balancers::check(&cx, &mut out);
            out
        },
    );
    out.extend(rest);
    out.extend(nacl_found);
    out.retain(|f| !cfg.suppress.contains(f.code));
    for f in &mut out {
        if let Some(s) = cfg.severity.get(f.code) {
            f.severity = *s;
        }
    }
    // A stable sort (rayon's is a stable merge sort): the order is the sequential one. The
    // context is freed meanwhile.
    rayon::join(
        || drop(cx),
        || {
            out.par_sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then_with(|| a.code.cmp(b.code))
                    .then_with(|| a.resources.cmp(&b.resources))
                    .then_with(|| a.message.cmp(&b.message))
                    .then_with(|| a.rules.cmp(&b.rules))
            })
        },
    );
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = include_str!("../../docs/findings.md");

    fn headings() -> Vec<&'static str> {
        DOC.lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect()
    }

    #[test]
    fn resources_keep_first_seen_order_each_once() {
        let f = Finding::new(codes::SG_UNUSED, Severity::Info, String::new())
            .resources(["b", "a", "b", "c", "a"].map(String::from))
            .resources(["c", "d", "b"].map(String::from));
        assert_eq!(f.resources, ["b", "a", "c", "d"]);
    }

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        let headings = headings();
        for r in registry() {
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(
                !r.code.is_empty()
                    && !r.code.starts_with('-')
                    && !r.code.ends_with('-')
                    && !r.code.contains("--")
                    && r.code
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                r.code
            );
            assert!(
                headings.contains(&r.code),
                "docs/findings.md has no `## {}` heading",
                r.code
            );
            assert!(!r.title.is_empty() && !r.description.is_empty() && !r.remediation.is_empty());
        }
    }

    #[test]
    fn documented_codes_are_registered() {
        // A heading that looks like a code must name a registered check (no stale docs).
        for h in headings() {
            if h.contains('-') && !h.contains(' ') {
                assert!(
                    rule(h).is_some(),
                    "docs/findings.md documents unknown code {h}"
                );
            }
        }
    }

    #[test]
    fn documented_default_severity_matches_the_registry() {
        for r in registry() {
            let section = DOC
                .split(&format!("## {}\n", r.code))
                .nth(1)
                .and_then(|s| s.split("\n## ").next())
                .unwrap_or_default();
            assert!(
                section.contains(&format!("Default severity: **{}**", r.default_severity)),
                "docs/findings.md `{}` does not state default severity {}",
                r.code,
                r.default_severity
            );
        }
    }

    #[test]
    fn severity_names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn grading_follows_the_exposure() {
        assert_eq!(
            graded(Severity::High, Some(Status::Effective)),
            Severity::High
        );
        assert_eq!(graded(Severity::High, Some(Status::Latent)), Severity::Low);
        assert_eq!(graded(Severity::High, None), Severity::Low);
        assert_eq!(graded(Severity::Info, None), Severity::Info);
    }
}

//! Synthetic estates for benchmarks and tests (`exposure generate`).
//!
//! [`generate`] builds a deterministic estate for a size and a seed and returns
//! the files to write, as (relative path, JSON bytes): real AWS CLI output in
//! CloudMapper's `account-data/<account>/<region>/ec2-describe-*.json` layout,
//! plus the wrapper shapes the loader reads for what CloudMapper keeps in
//! per-call folders (listeners, target health, transit-gateway routes,
//! prefix-list entries). The same (size, seed) always gives byte-identical
//! files. Pure: no I/O here; the CLI writes the files.
//!
//! Like the collector, this module produces AWS wire formats; it never reads
//! them and does not use `sources::wire`.
//!
//! The estate has the structure large organisations have: a network account
//! with a hub VPC and a transit gateway per region (the regional gateways
//! peer with each other), workload accounts split into prod and nonprod, VPCs
//! with public, application, data and transit-gateway subnets in three
//! availability zones, skewed VPC sizes, applications whose security groups
//! are reused with a Zipf-like skew and reference each other, CIDR and
//! prefix-list rules (some risky), NACLs of 10–40 entries with the ephemeral
//! reply rules flows need, route tables of up to a few hundred routes, VPC
//! peering (mostly within a region), load balancers with target groups, and
//! centralised egress through the hub for VPCs without their own internet
//! gateway. IPv4 CIDRs never overlap anywhere in the estate.

mod estate;
mod render;
mod rng;

/// Size of a generated estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// 2,000 ENIs, 5 VPCs, 300 security groups, 5 load balancers.
    S,
    /// 20,000 ENIs, 100 VPCs, 5,000 security groups, 100 load balancers, 50 peerings.
    M,
    /// 100,000 ENIs, 200 VPCs, 25,000 security groups, 500 load balancers.
    L,
    /// As `l`, with one security group per workload ENI (/32 and group-reference rules).
    Xl,
}

impl Size {
    /// What an estate of this size holds.
    pub fn spec(self) -> Spec {
        match self {
            Size::S => Spec {
                enis: 2_000,
                vpcs: 5,
                sgs: 300,
                lbs: 5,
                peerings: 2,
                accounts: 2,
                regions: 2,
                tgw_routes: 60,
                one_sg_per_eni: false,
            },
            Size::M => Spec {
                enis: 20_000,
                vpcs: 100,
                sgs: 5_000,
                lbs: 100,
                peerings: 50,
                accounts: 8,
                regions: 3,
                tgw_routes: 1_000,
                one_sg_per_eni: false,
            },
            Size::L => Spec {
                enis: 100_000,
                vpcs: 200,
                sgs: 25_000,
                lbs: 500,
                peerings: 100,
                accounts: 16,
                regions: 3,
                tgw_routes: 5_000,
                one_sg_per_eni: false,
            },
            Size::Xl => Spec {
                sgs: 0,
                one_sg_per_eni: true,
                ..Size::L.spec()
            },
        }
    }

    /// The size's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Size::S => "s",
            Size::M => "m",
            Size::L => "l",
            Size::Xl => "xl",
        }
    }
}

/// The counts an estate is built to. Every count is exact in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Network interfaces (instances, Lambda, ECS, RDS, load-balancer nodes, NAT and TGW ENIs).
    pub enis: usize,
    /// VPCs (one hub per region included).
    pub vpcs: usize,
    /// Security groups (0 for `xl`, where the count follows from one group per workload ENI).
    pub sgs: usize,
    /// Load balancers (ALB and NLB).
    pub lbs: usize,
    /// VPC peering connections.
    pub peerings: usize,
    /// Accounts (the first is the network account).
    pub accounts: usize,
    /// Regions.
    pub regions: usize,
    /// Routes over all transit-gateway route tables.
    pub tgw_routes: usize,
    /// One security group per workload ENI.
    pub one_sg_per_eni: bool,
}

/// One file to write: a path relative to the output folder (with `/`) and its contents.
pub type GeneratedFile = (String, Vec<u8>);

/// Generates the estate for a size and seed: the files, sorted by path.
pub fn generate(size: Size, seed: u64) -> Vec<GeneratedFile> {
    let estate = estate::build(&size.spec(), seed);
    render::render(&estate)
}

/// Counts of what [`generate`] made, for the command's summary line.
pub fn summary(files: &[GeneratedFile]) -> String {
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    let accounts: std::collections::BTreeSet<&str> =
        files.iter().filter_map(|f| f.0.split('/').nth(1)).collect();
    format!(
        "{} files, {:.1} MB, {} accounts",
        files.len(),
        bytes as f64 / 1e6,
        accounts.len()
    )
}

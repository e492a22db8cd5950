//! The inventory in human and JSON form.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;
use std::collections::BTreeMap;

use super::SCHEMA_VERSION;
use crate::inventory::Inventory;
use crate::model::{Level, ResourceKind};

#[derive(Serialize)]
struct JsonInventory<'a> {
    schema_version: u32,
    kind: &'static str,
    snapshot: &'a str,
    partial: bool,
    totals: BTreeMap<&'static str, usize>,
    by_location: Vec<JsonLocation>,
    assumptions: &'a [String],
    warnings: Vec<JsonDiagnostic<'a>>,
    notes: Vec<JsonDiagnostic<'a>>,
}

/// Counts of one account/region, as every JSON document that carries an inventory prints them.
#[derive(Serialize)]
pub(super) struct JsonLocation {
    account: Option<String>,
    region: Option<String>,
    counts: BTreeMap<&'static str, usize>,
}

/// A warning or note in JSON.
#[derive(Serialize)]
pub(super) struct JsonDiagnostic<'a> {
    file: Option<&'a str>,
    message: &'a str,
}

/// The inventory's diagnostics of one level.
pub(super) fn json_diagnostics(inv: &Inventory, level: Level) -> Vec<JsonDiagnostic<'_>> {
    inv.diagnostics
        .iter()
        .filter(|d| d.level == level)
        .map(|d| JsonDiagnostic {
            file: d.file.as_deref(),
            message: &d.message,
        })
        .collect()
}

/// The inventory's counts per account/region.
pub(super) fn json_locations(inv: &Inventory) -> Vec<JsonLocation> {
    inv.by_location
        .iter()
        .map(|l| JsonLocation {
            account: l.location.account.clone(),
            region: l.location.region.clone(),
            counts: l.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        })
        .collect()
}

/// The inventory as a JSON document.
pub fn json(inv: &Inventory) -> String {
    let doc = JsonInventory {
        schema_version: SCHEMA_VERSION,
        kind: "inventory",
        snapshot: &inv.origin,
        partial: inv.partial,
        totals: inv.totals.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        by_location: json_locations(inv),
        assumptions: &inv.assumptions,
        warnings: json_diagnostics(inv, Level::Warning),
        notes: json_diagnostics(inv, Level::Note),
    };
    serde_json::to_string_pretty(&doc).expect("inventory serialises") + "\n"
}

fn label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Vpc => "VPCs",
        ResourceKind::Subnet => "subnets",
        ResourceKind::RouteTable => "route tables",
        ResourceKind::NetworkAcl => "network ACLs",
        ResourceKind::SecurityGroup => "security groups",
        ResourceKind::NetworkInterface => "network interfaces",
        ResourceKind::Instance => "instances",
        ResourceKind::InternetGateway => "internet gateways",
        ResourceKind::EgressOnlyInternetGateway => "egress-only IGWs",
        ResourceKind::NatGateway => "NAT gateways",
        ResourceKind::VpnGateway => "VPN gateways",
        ResourceKind::VpnConnection => "VPN connections",
        ResourceKind::TransitGateway => "transit gateways",
        ResourceKind::TgwAttachment => "TGW attachments",
        ResourceKind::TgwRouteTable => "TGW route tables",
        ResourceKind::Peering => "peering connections",
        ResourceKind::PrefixList => "prefix lists",
        ResourceKind::VpcEndpoint => "VPC endpoints",
        ResourceKind::LoadBalancer => "load balancers",
        ResourceKind::Listener => "listeners",
        ResourceKind::TargetGroup => "target groups",
        ResourceKind::DbInstance => "RDS instances",
    }
}

/// The inventory as text: one table, kinds down, account/region across.
pub fn human(inv: &Inventory) -> String {
    let mut out = String::new();
    out.push_str(&format!("Snapshot: {}\n", inv.origin));
    if inv.partial {
        out.push_str("WARNING: this snapshot is marked partial; resources may be missing.\n");
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec![Cell::new("resource")];
    let show_locations = inv.by_location.len() > 1;
    if show_locations {
        for l in &inv.by_location {
            header.push(Cell::new(format!(
                "{}\n{}",
                l.location.account.as_deref().unwrap_or("?"),
                l.location.region.as_deref().unwrap_or("?")
            )));
        }
    }
    header.push(Cell::new("total"));
    table.set_header(header);
    for kind in ResourceKind::ALL {
        let Some(total) = inv.totals.get(&kind) else {
            continue;
        };
        let mut row = vec![Cell::new(label(kind))];
        if show_locations {
            for l in &inv.by_location {
                let n = l.counts.get(&kind).copied().unwrap_or(0);
                row.push(
                    Cell::new(if n == 0 {
                        "-".to_string()
                    } else {
                        n.to_string()
                    })
                    .set_alignment(CellAlignment::Right),
                );
            }
        }
        row.push(Cell::new(total).set_alignment(CellAlignment::Right));
        table.add_row(row);
    }
    if !show_locations {
        if let Some(l) = inv.by_location.first() {
            out.push_str(&format!(
                "Account {}, region {}\n",
                l.location.account.as_deref().unwrap_or("unknown"),
                l.location.region.as_deref().unwrap_or("unknown")
            ));
        }
    }
    out.push_str(&table.to_string());
    out.push('\n');
    for a in &inv.assumptions {
        out.push_str(&format!("assumption: {a}\n"));
    }
    let warnings: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .collect();
    let notes: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Note)
        .collect();
    if warnings.is_empty() {
        out.push_str("No warnings.\n");
    } else {
        out.push_str(&format!(
            "{} warning{}:\n",
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        ));
        for w in warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
    }
    if !notes.is_empty() {
        out.push_str(&format!(
            "{} note{}:\n",
            notes.len(),
            if notes.len() == 1 { "" } else { "s" }
        ));
        for n in notes {
            out.push_str(&format!("  note: {n}\n"));
        }
    }
    out
}

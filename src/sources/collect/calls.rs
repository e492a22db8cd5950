//! The calls made in one account and region, and the files they become.
//!
//! First every list call (EC2, ELBv2, Classic ELB, RDS), concurrently, each following its paginator to
//! the last page; then the calls made per resource found by the first ones (prefix-list
//! entries, TGW routes, listeners, target health, attributes; a Classic Load Balancer's
//! attributes one file each, named after it), written in the wrapper
//! shapes the loader reads (`LoadBalancerListeners`, `TransitGatewayStaticRoutes`, ...), and
//! last the rules of each listener found (`DescribeRules`, one `{"ListenerArn", "Rules"}`
//! file per listener).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::json::ToJson;
use super::progress::Progress;
use super::{CallRecord, OutFile, RegionResult};

/// The SDK's error with its causes, on one line, clipped (`service error: unhandled error
/// (UnauthorizedOperation): ...`). SDK errors carry the operation, the AWS error code and
/// message, never credentials.
pub(crate) fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    let text = parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > 400 {
        let clipped: String = text.chars().take(400).collect();
        format!("{clipped}...")
    } else {
        text
    }
}

/// An SDK call's error: the HTTP status and the AWS error code and message when the service
/// answered (`HTTP 403: UnauthorizedOperation: You are not authorized ...`), the causes
/// otherwise (`dispatch failure: io error: ... Connection refused`).
pub(crate) fn sdk_error_text<E>(
    e: &aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
) -> String
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::ProvideErrorMetadata;
    let status = e
        .raw_response()
        .map(|r| r.status().as_u16())
        .filter(|s| *s >= 300);
    let text = match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => error_text(e),
    };
    match status {
        Some(s) => format!("HTTP {s}: {text}"),
        None => text,
    }
}

/// What the calls of one region share.
#[derive(Clone)]
struct Ctx {
    account: String,
    region: String,
    limit: Arc<Semaphore>,
    progress: Progress,
}

impl Ctx {
    fn record(
        &self,
        call: &'static str,
        kind: &'static str,
        items: usize,
        pages: usize,
        error: Option<String>,
    ) -> CallRecord {
        CallRecord {
            account: self.account.clone(),
            region: self.region.clone(),
            call,
            kind,
            items,
            pages,
            error,
            skipped: false,
            optional: false,
        }
    }
}

/// A per-resource call's answer: the document for its file, items, pages.
type Answer = Result<(Value, usize, usize), String>;

/// A list call's result: its record, and (when it succeeded) its file's name, key and items.
struct Listed {
    record: CallRecord,
    file: &'static str,
    key: &'static str,
    items: Option<Vec<Value>>,
}

/// Spawns one list call: `$req` is the SDK's fluent builder; `paged` follows its
/// paginator, `single` sends it once. `$acc` is the output's list accessor.
macro_rules! list_call {
    ($set:ident, $ctx:ident, paged, $call:literal, $file:literal, $key:literal, $kind:literal, $req:expr, $acc:ident) => {
        list_call!(@spawn $set, $ctx, $call, $file, $key, $kind, {
            let req = $req;
            async move {
                let mut stream = req.into_paginator().send();
                let mut items = Vec::new();
                let mut pages = 0usize;
                loop {
                    match stream.next().await {
                        None => break Ok((items, pages)),
                        Some(Ok(page)) => {
                            pages += 1;
                            items.extend(page.$acc().iter().map(ToJson::to_json));
                        }
                        Some(Err(e)) => break Err(sdk_error_text(&e)),
                    }
                }
            }
        })
    };
    ($set:ident, $ctx:ident, single, $call:literal, $file:literal, $key:literal, $kind:literal, $req:expr, $acc:ident) => {
        list_call!(@spawn $set, $ctx, $call, $file, $key, $kind, {
            let req = $req;
            async move {
                match req.send().await {
                    Ok(out) => Ok((out.$acc().iter().map(ToJson::to_json).collect::<Vec<_>>(), 1usize)),
                    Err(e) => Err(sdk_error_text(&e)),
                }
            }
        })
    };
    (@spawn $set:ident, $ctx:ident, $call:literal, $file:literal, $key:literal, $kind:literal, $fut:expr) => {{
        let ctx = $ctx.clone();
        let fut = $fut;
        ctx.progress.add_calls(1);
        $set.spawn(async move {
            let result = {
                let _permit = ctx.limit.acquire().await.expect("the semaphore is never closed");
                fut.await
            };
            let listed = match result {
                Ok((items, pages)) => Listed {
                    record: ctx.record($call, $kind, count($key, &items), pages, None),
                    file: $file,
                    key: $key,
                    items: Some(items),
                },
                Err(e) => Listed {
                    record: ctx.record($call, $kind, 0, 0, Some(e)),
                    file: $file,
                    key: $key,
                    items: None,
                },
            };
            ctx.progress.call_done(&listed.record);
            listed
        });
    }};
}

/// Items counted for the summary: instances rather than reservations.
fn count(key: &str, items: &[Value]) -> usize {
    if key == "Reservations" {
        items
            .iter()
            .map(|r| r["Instances"].as_array().map_or(0, Vec::len))
            .sum()
    } else {
        items.len()
    }
}

/// Collects one account and region.
pub(crate) async fn collect_region(
    account: String,
    region: String,
    config: SdkConfig,
    limit: Arc<Semaphore>,
    progress: Progress,
) -> RegionResult {
    let clock = Instant::now();
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let clb = aws_sdk_elasticloadbalancing::Client::new(&config);
    let rds = aws_sdk_rds::Client::new(&config);
    let ctx = Ctx {
        account: account.clone(),
        region: region.clone(),
        limit,
        progress: progress.clone(),
    };

    let mut set: JoinSet<Listed> = JoinSet::new();
    // EC2.
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeVpcs",
        "ec2-describe-vpcs.json",
        "Vpcs",
        "Vpcs",
        ec2.describe_vpcs(),
        vpcs
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeSubnets",
        "ec2-describe-subnets.json",
        "Subnets",
        "Subnets",
        ec2.describe_subnets(),
        subnets
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeRouteTables",
        "ec2-describe-route-tables.json",
        "RouteTables",
        "RouteTables",
        ec2.describe_route_tables(),
        route_tables
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeNetworkAcls",
        "ec2-describe-network-acls.json",
        "NetworkAcls",
        "NetworkAcls",
        ec2.describe_network_acls(),
        network_acls
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeSecurityGroups",
        "ec2-describe-security-groups.json",
        "SecurityGroups",
        "SecurityGroups",
        ec2.describe_security_groups(),
        security_groups
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeSecurityGroupRules",
        "ec2-describe-security-group-rules.json",
        "SecurityGroupRules",
        "SecurityGroupRules",
        ec2.describe_security_group_rules(),
        security_group_rules
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeNetworkInterfaces",
        "ec2-describe-network-interfaces.json",
        "NetworkInterfaces",
        "NetworkInterfaces",
        ec2.describe_network_interfaces(),
        network_interfaces
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeInstances",
        "ec2-describe-instances.json",
        "Reservations",
        "Instances",
        ec2.describe_instances(),
        reservations
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeInternetGateways",
        "ec2-describe-internet-gateways.json",
        "InternetGateways",
        "InternetGateways",
        ec2.describe_internet_gateways(),
        internet_gateways
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeEgressOnlyInternetGateways",
        "ec2-describe-egress-only-internet-gateways.json",
        "EgressOnlyInternetGateways",
        "EgressOnlyInternetGateways",
        ec2.describe_egress_only_internet_gateways(),
        egress_only_internet_gateways
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeNatGateways",
        "ec2-describe-nat-gateways.json",
        "NatGateways",
        "NatGateways",
        ec2.describe_nat_gateways(),
        nat_gateways
    );
    list_call!(
        set,
        ctx,
        single,
        "ec2:DescribeAddresses",
        "ec2-describe-addresses.json",
        "Addresses",
        "Addresses",
        ec2.describe_addresses(),
        addresses
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeVpcPeeringConnections",
        "ec2-describe-vpc-peering-connections.json",
        "VpcPeeringConnections",
        "VpcPeeringConnections",
        ec2.describe_vpc_peering_connections(),
        vpc_peering_connections
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeManagedPrefixLists",
        "ec2-describe-managed-prefix-lists.json",
        "PrefixLists",
        "PrefixLists",
        ec2.describe_managed_prefix_lists(),
        prefix_lists
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeTransitGateways",
        "ec2-describe-transit-gateways.json",
        "TransitGateways",
        "TransitGateways",
        ec2.describe_transit_gateways(),
        transit_gateways
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeTransitGatewayAttachments",
        "ec2-describe-transit-gateway-attachments.json",
        "TransitGatewayAttachments",
        "TransitGatewayAttachments",
        ec2.describe_transit_gateway_attachments(),
        transit_gateway_attachments
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeTransitGatewayVpcAttachments",
        "ec2-describe-transit-gateway-vpc-attachments.json",
        "TransitGatewayVpcAttachments",
        "TransitGatewayVpcAttachments",
        ec2.describe_transit_gateway_vpc_attachments(),
        transit_gateway_vpc_attachments
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeTransitGatewayRouteTables",
        "ec2-describe-transit-gateway-route-tables.json",
        "TransitGatewayRouteTables",
        "TransitGatewayRouteTables",
        ec2.describe_transit_gateway_route_tables(),
        transit_gateway_route_tables
    );
    list_call!(
        set,
        ctx,
        single,
        "ec2:DescribeVpnGateways",
        "ec2-describe-vpn-gateways.json",
        "VpnGateways",
        "VpnGateways",
        ec2.describe_vpn_gateways(),
        vpn_gateways
    );
    list_call!(
        set,
        ctx,
        single,
        "ec2:DescribeVpnConnections",
        "ec2-describe-vpn-connections.json",
        "VpnConnections",
        "VpnConnections",
        ec2.describe_vpn_connections(),
        vpn_connections
    );
    list_call!(
        set,
        ctx,
        paged,
        "ec2:DescribeVpcEndpoints",
        "ec2-describe-vpc-endpoints.json",
        "VpcEndpoints",
        "VpcEndpoints",
        ec2.describe_vpc_endpoints(),
        vpc_endpoints
    );
    // ELBv2 and RDS.
    list_call!(
        set,
        ctx,
        paged,
        "elasticloadbalancing:DescribeLoadBalancers",
        "elbv2-describe-load-balancers.json",
        "LoadBalancers",
        "LoadBalancers",
        elb.describe_load_balancers(),
        load_balancers
    );
    list_call!(
        set,
        ctx,
        paged,
        "elasticloadbalancing:DescribeTargetGroups",
        "elbv2-describe-target-groups.json",
        "TargetGroups",
        "TargetGroups",
        elb.describe_target_groups(),
        target_groups
    );
    // Classic Load Balancers: the `elb` API of the AWS CLI (its IAM actions are
    // `elasticloadbalancing:*` too; the manifest names them `elb:*` to tell them apart).
    list_call!(
        set,
        ctx,
        paged,
        "elb:DescribeLoadBalancers",
        "elb-describe-load-balancers.json",
        "LoadBalancerDescriptions",
        "ClassicLoadBalancers",
        clb.describe_load_balancers(),
        load_balancer_descriptions
    );
    list_call!(
        set,
        ctx,
        paged,
        "rds:DescribeDBInstances",
        "rds-describe-db-instances.json",
        "DBInstances",
        "DBInstances",
        rds.describe_db_instances(),
        db_instances
    );

    let mut listed = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(l) => listed.push(l),
            Err(e) => listed.push(Listed {
                record: ctx.record("internal", "", 0, 0, Some(format!("task failed: {e}"))),
                file: "",
                key: "",
                items: None,
            }),
        }
    }
    listed.sort_by_key(|l| l.record.call);

    // The ids a per-resource call needs; `None` when the list call failed.
    let ids = |key: &str, field: &str, live: &dyn Fn(&Value) -> bool| -> Option<Vec<String>> {
        let items = listed.iter().find(|l| l.key == key)?.items.as_ref()?;
        Some(
            items
                .iter()
                .filter(|v| live(v))
                .filter_map(|v| v[field].as_str().map(str::to_string))
                .collect(),
        )
    };
    let any = |_: &Value| true;
    let prefix_lists = ids("PrefixLists", "PrefixListId", &|v| {
        !matches!(
            v["State"].as_str(),
            Some("delete-complete" | "delete-in-progress" | "delete-failed")
        )
    });
    let tgw_route_tables = ids(
        "TransitGatewayRouteTables",
        "TransitGatewayRouteTableId",
        &|v| !matches!(v["State"].as_str(), Some("deleted" | "deleting")),
    );
    let load_balancers = ids("LoadBalancers", "LoadBalancerArn", &any);
    // Those in a VPC: the loader skips EC2-Classic ones, and would warn about their attributes.
    let classic_load_balancers = ids("LoadBalancerDescriptions", "LoadBalancerName", &|v| {
        v["VPCId"].as_str().is_some_and(|id| !id.is_empty())
    });
    let target_groups = ids("TargetGroups", "TargetGroupArn", &any);

    let mut files = Vec::new();
    let mut records = Vec::new();
    for l in listed {
        if let Some(items) = l.items {
            files.push(OutFile {
                name: l.file.to_string(),
                doc: json!({ l.key: items }),
            });
        }
        records.push(l.record);
    }

    // Per resource, all concurrently.
    let entries = {
        let ec2 = ec2.clone();
        per_resource(
            &ctx,
            "ec2:GetManagedPrefixListEntries",
            "PrefixListEntries",
            prefix_lists,
            move |id| {
                let req = ec2
                    .get_managed_prefix_list_entries()
                    .prefix_list_id(id.clone());
                async move {
                    let mut stream = req.into_paginator().send();
                    let mut entries = Vec::new();
                    let mut pages = 0;
                    while let Some(page) = stream.next().await {
                        let page = page.map_err(|e| sdk_error_text(&e))?;
                        pages += 1;
                        entries.extend(page.entries().iter().map(ToJson::to_json));
                    }
                    let n = entries.len();
                    Ok((json!({"PrefixListId": id, "Entries": entries}), n, pages))
                }
            },
        )
    };
    let routes = {
        let ec2 = ec2.clone();
        per_resource(
            &ctx,
            "ec2:SearchTransitGatewayRoutes",
            "TransitGatewayRoutes",
            tgw_route_tables,
            move |id| {
                let state = aws_sdk_ec2::types::Filter::builder()
                    .name("state")
                    .values("active")
                    .values("blackhole")
                    .build();
                let req = ec2
                    .search_transit_gateway_routes()
                    .transit_gateway_route_table_id(id.clone())
                    .filters(state)
                    .max_results(1000);
                async move {
                    let out = req.send().await.map_err(|e| sdk_error_text(&e))?;
                    if out.additional_routes_available() == Some(true) {
                        return Err(format!(
                        "{id}: more than {} routes; SearchTransitGatewayRoutes returns at most 1000, the rest are missing",
                        out.routes().len()
                    ));
                    }
                    let routes: Vec<Value> = out.routes().iter().map(ToJson::to_json).collect();
                    let n = routes.len();
                    Ok((
                        json!({"TransitGatewayRouteTableId": id, "Routes": routes}),
                        n,
                        1,
                    ))
                }
            },
        )
    };
    let listeners = {
        let elb = elb.clone();
        per_resource(
            &ctx,
            "elasticloadbalancing:DescribeListeners",
            "Listeners",
            load_balancers.clone(),
            move |arn| {
                let req = elb.describe_listeners().load_balancer_arn(arn.clone());
                async move {
                    let mut stream = req.into_paginator().send();
                    let mut listeners = Vec::new();
                    let mut pages = 0;
                    while let Some(page) = stream.next().await {
                        let page = page.map_err(|e| sdk_error_text(&e))?;
                        pages += 1;
                        listeners.extend(page.listeners().iter().map(ToJson::to_json));
                    }
                    let n = listeners.len();
                    Ok((
                        json!({"LoadBalancerArn": arn, "Listeners": listeners}),
                        n,
                        pages,
                    ))
                }
            },
        )
    };
    let lb_attributes = {
        let elb = elb.clone();
        per_resource(
            &ctx,
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "",
            load_balancers,
            move |arn| {
                let req = elb
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(arn.clone());
                async move {
                    let out = req.send().await.map_err(|e| sdk_error_text(&e))?;
                    let attributes: Vec<Value> =
                        out.attributes().iter().map(ToJson::to_json).collect();
                    Ok((
                        json!({"LoadBalancerArn": arn, "Attributes": attributes}),
                        1,
                        1,
                    ))
                }
            },
        )
    };
    // A Classic Load Balancer's attributes do not name it: one file each, named after it (as
    // `aws elb describe-load-balancer-attributes --load-balancer-name NAME` prints them).
    let classic_attributes = per_resource(
        &ctx,
        "elb:DescribeLoadBalancerAttributes",
        "",
        classic_load_balancers,
        move |name| {
            let req = clb
                .describe_load_balancer_attributes()
                .load_balancer_name(name);
            async move {
                let out = req.send().await.map_err(|e| sdk_error_text(&e))?;
                let attributes = out
                    .load_balancer_attributes()
                    .map_or_else(|| json!({}), ToJson::to_json);
                Ok((json!({ "LoadBalancerAttributes": attributes }), 1, 1))
            }
        },
    );
    let health = {
        let elb = elb.clone();
        per_resource(
            &ctx,
            "elasticloadbalancing:DescribeTargetHealth",
            "Targets",
            target_groups.clone(),
            move |arn| {
                let req = elb.describe_target_health().target_group_arn(arn.clone());
                async move {
                    let out = req.send().await.map_err(|e| sdk_error_text(&e))?;
                    let d: Vec<Value> = out
                        .target_health_descriptions()
                        .iter()
                        .map(ToJson::to_json)
                        .collect();
                    let n = d.len();
                    Ok((
                        json!({"TargetGroupArn": arn, "TargetHealthDescriptions": d}),
                        n,
                        1,
                    ))
                }
            },
        )
    };
    let tg_attributes = {
        let elb = elb.clone();
        per_resource(
            &ctx,
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "",
            target_groups,
            move |arn| {
                let req = elb
                    .describe_target_group_attributes()
                    .target_group_arn(arn.clone());
                async move {
                    let out = req.send().await.map_err(|e| sdk_error_text(&e))?;
                    let attributes: Vec<Value> =
                        out.attributes().iter().map(ToJson::to_json).collect();
                    Ok((
                        json!({"TargetGroupArn": arn, "Attributes": attributes}),
                        1,
                        1,
                    ))
                }
            },
        )
    };
    // Each listener's rules, as soon as the listeners are known.
    let listeners_and_rules = {
        let elb = elb.clone();
        let ctx = ctx.clone();
        async move {
            let (record, sets) = listeners.await;
            let arns = listener_arns(&record, &sets);
            let rules = per_resource(
                &ctx,
                "elasticloadbalancing:DescribeRules",
                "ListenerRules",
                arns,
                move |arn| {
                    let req = elb.describe_rules().listener_arn(arn.clone());
                    async move {
                        let mut stream = req.into_paginator().send();
                        let mut rules = Vec::new();
                        let mut pages = 0;
                        while let Some(page) = stream.next().await {
                            let page = match page {
                                Ok(page) => page,
                                // A listener whose protocol has no rules (the API's
                                // `UnsupportedProtocol`): its default actions are all it
                                // does, so it has none to collect, and nothing is missing.
                                Err(e)
                                    if e.as_service_error()
                                        .is_some_and(|s| s.is_unsupported_protocol_exception()) =>
                                {
                                    break
                                }
                                Err(e) => return Err(sdk_error_text(&e)),
                            };
                            pages += 1;
                            rules.extend(page.rules().iter().map(ToJson::to_json));
                        }
                        let n = rules.len();
                        Ok((json!({"ListenerArn": arn, "Rules": rules}), n, pages))
                    }
                },
            )
            .await;
            ((record, sets), rules)
        }
    };
    let bpa = block_public_access(&ctx, ec2);
    let (
        entries,
        routes,
        (listeners, rules),
        lb_attributes,
        classic_attributes,
        health,
        tg_attributes,
        bpa,
    ) = tokio::join!(
        entries,
        routes,
        listeners_and_rules,
        lb_attributes,
        classic_attributes,
        health,
        tg_attributes,
        bpa
    );
    for (record, file) in bpa {
        records.push(record);
        files.extend(file);
    }

    // One file per prefix list, as `get-managed-prefix-list-entries` prints it (wrapped with its id).
    let (record, sets) = entries;
    records.push(record);
    for (id, doc) in sets {
        files.push(OutFile {
            name: format!(
                "ec2-get-managed-prefix-list-entries-{}.json",
                file_safe(&id)
            ),
            doc,
        });
    }
    for ((record, sets), file, key) in [
        (
            routes,
            "ec2-search-transit-gateway-routes.json",
            "TransitGatewayStaticRoutes",
        ),
        (
            listeners,
            "elbv2-describe-listeners.json",
            "LoadBalancerListeners",
        ),
        (
            lb_attributes,
            "elbv2-describe-load-balancer-attributes.json",
            "LoadBalancerAttributes",
        ),
        (
            health,
            "elbv2-describe-target-health.json",
            "LoadBalancerTargetHealth",
        ),
        (
            tg_attributes,
            "elbv2-describe-target-group-attributes.json",
            "TargetGroupAttributes",
        ),
    ] {
        let nothing = (record.error.is_some() && sets.is_empty()) || record.skipped;
        records.push(record);
        if !nothing {
            let docs: Vec<Value> = sets.into_iter().map(|(_, d)| d).collect();
            files.push(OutFile {
                name: file.to_string(),
                doc: json!({ key: docs }),
            });
        }
    }
    let (record, sets) = classic_attributes;
    records.push(record);
    for (name, doc) in sets {
        files.push(OutFile {
            name: format!(
                "elb-describe-load-balancer-attributes-{}.json",
                file_safe(&name)
            ),
            doc,
        });
    }
    // One file per listener, as `describe-rules` prints it, with the listener's ARN beside it.
    let (record, sets) = rules;
    records.push(record);
    for (arn, doc) in sets {
        let name = arn
            .split_once(":listener/")
            .map_or(arn.as_str(), |(_, s)| s);
        files.push(OutFile {
            name: format!("elbv2-describe-rules-{}.json", file_safe(name)),
            doc,
        });
    }
    let result = RegionResult {
        account,
        region,
        files,
        calls: records,
        elapsed: clock.elapsed(),
    };
    progress.region_done(&result);
    result
}

/// The region's VPC Block Public Access options and exclusions
/// (`DescribeVpcBlockPublicAccessOptions`, `DescribeVpcBlockPublicAccessExclusions`), one file
/// each. Both are optional: without them the loader takes the mode from the VPC records and
/// answers `unknown` whatever an exclusion could decide, so a failure (an endpoint without the
/// API, such as moto; a policy without the actions) loses no data and leaves the snapshot
/// complete: the manifest says `unavailable`, with the error, and no file is written. One retry
/// at most for the same reason.
async fn block_public_access(
    ctx: &Ctx,
    ec2: aws_sdk_ec2::Client,
) -> Vec<(CallRecord, Option<OutFile>)> {
    let once_more = || {
        aws_sdk_ec2::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
    };
    let options = {
        let ec2 = ec2.clone();
        async move {
            let out = ec2
                .describe_vpc_block_public_access_options()
                .customize()
                .config_override(once_more())
                .send()
                .await
                .map_err(|e| sdk_error_text(&e))?;
            let options = out
                .vpc_block_public_access_options()
                .map_or_else(|| json!({}), ToJson::to_json);
            Ok((json!({ "VpcBlockPublicAccessOptions": options }), 1, 1))
        }
    };
    let exclusions = async move {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut token: Option<String> = None;
        loop {
            let out = ec2
                .describe_vpc_block_public_access_exclusions()
                .set_next_token(token.clone())
                .customize()
                .config_override(once_more())
                .send()
                .await
                .map_err(|e| sdk_error_text(&e))?;
            pages += 1;
            items.extend(
                out.vpc_block_public_access_exclusions()
                    .iter()
                    .map(ToJson::to_json),
            );
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(t) if token.as_deref() == Some(t) => {
                    return Err(format!("the API returned the page token {t} twice"))
                }
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        let n = items.len();
        Ok((json!({ "VpcBlockPublicAccessExclusions": items }), n, pages))
    };
    let (options, exclusions) = tokio::join!(
        optional_call(
            ctx,
            "ec2:DescribeVpcBlockPublicAccessOptions",
            "",
            "ec2-describe-vpc-block-public-access-options.json",
            options
        ),
        optional_call(
            ctx,
            "ec2:DescribeVpcBlockPublicAccessExclusions",
            "VpcBlockPublicAccessExclusions",
            "ec2-describe-vpc-block-public-access-exclusions.json",
            exclusions
        ),
    );
    vec![options, exclusions]
}

/// Runs one optional call within the global bound: its record (`optional`, so a failure does
/// not make the snapshot partial) and, when it succeeded, its file.
async fn optional_call(
    ctx: &Ctx,
    call: &'static str,
    kind: &'static str,
    file: &'static str,
    fut: impl Future<Output = Answer>,
) -> (CallRecord, Option<OutFile>) {
    ctx.progress.add_calls(1);
    let answer = {
        let _permit = ctx
            .limit
            .acquire()
            .await
            .expect("the semaphore is never closed");
        fut.await
    };
    let (mut record, file) = match answer {
        Ok((doc, items, pages)) => (
            ctx.record(call, kind, items, pages, None),
            Some(OutFile {
                name: file.to_string(),
                doc,
            }),
        ),
        Err(e) => (ctx.record(call, kind, 0, 0, Some(e)), None),
    };
    record.optional = true;
    ctx.progress.call_done(&record);
    (record, file)
}

/// The listeners whose rules are collected: those of application and network load balancers
/// (a Gateway Load Balancer's listener has no rules). `None` (nothing attempted) when the
/// listeners are unknown: their call was skipped or failed for every load balancer.
fn listener_arns(record: &CallRecord, sets: &[(String, Value)]) -> Option<Vec<String>> {
    if record.skipped || (record.error.is_some() && sets.is_empty()) {
        return None;
    }
    Some(
        sets.iter()
            .filter(|(lb, _)| !lb.contains(":loadbalancer/gwy/"))
            .flat_map(|(_, doc)| doc["Listeners"].as_array().into_iter().flatten())
            .filter_map(|l| l["ListenerArn"].as_str().map(str::to_string))
            .collect(),
    )
}

fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `f` for every id concurrently (within the global bound) and adds the answers up
/// into one manifest record: items and pages summed, the failures counted with the first
/// one's message. Returns the record and the successful `(id, document)` pairs, in id order.
/// Without ids (`None`: the list call that names them failed) nothing is attempted and the
/// record says `skipped`.
async fn per_resource<F, Fut>(
    ctx: &Ctx,
    call: &'static str,
    kind: &'static str,
    ids: Option<Vec<String>>,
    f: F,
) -> (CallRecord, Vec<(String, Value)>)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Answer> + Send + 'static,
{
    ctx.progress.add_calls(1);
    let Some(ids) = ids else {
        let mut record = ctx.record(call, kind, 0, 0, None);
        record.skipped = true;
        ctx.progress.call_done(&record);
        return (record, Vec::new());
    };
    let mut set = JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let fut = f(id.clone());
        let limit = ctx.limit.clone();
        set.spawn(async move {
            let _permit = limit
                .acquire()
                .await
                .expect("the semaphore is never closed");
            (i, fut.await)
        });
    }
    let mut answers: Vec<(usize, Answer)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(a) => answers.push(a),
            Err(e) => answers.push((usize::MAX, Err(format!("task failed: {e}")))),
        }
    }
    answers.sort_by_key(|(i, _)| *i);
    let (mut items, mut pages) = (0, 0);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (i, a) in answers {
        let id = ids.get(i).cloned().unwrap_or_default();
        match a {
            Ok((doc, n, p)) => {
                items += n;
                pages += p;
                docs.push((id, doc));
            }
            Err(e) => errors.push(if e.contains(&id) {
                e
            } else {
                format!("{id}: {e}")
            }),
        }
    }
    let error = match errors.len() {
        0 => None,
        1 => Some(errors.remove(0)),
        n => Some(format!(
            "{n} of {} calls failed; the first: {}",
            ids.len(),
            errors[0]
        )),
    };
    let record = ctx.record(call, kind, items, pages, error);
    ctx.progress.call_done(&record);
    (record, docs)
}

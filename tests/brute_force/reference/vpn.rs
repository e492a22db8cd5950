//! On-premises networks behind a virtual private gateway (Site-to-Site VPN) or a transit
//! gateway's VPN attachment (§6.3, §6.2), from the semantics doc and AWS's VPN guide only.
//!
//! An on-premises sender is a private address outside every VPC; it may come in by any entry
//! (every VGW, every VPN attachment of a transit gateway): the flow is reachable when one
//! entry gets it through. What lies beyond a connection (on-premises routing and firewalls)
//! is not in the snapshot (§6.3: assumptions): a packet handed to a connection that carries
//! its destination reaches it, and on-premises answers through the entry the request used.

use std::net::Ipv4Addr;

use exposure::model::{NetworkInterface, RouteTarget, TgwAttachment, TgwAttachmentKind};

use super::{v4, Walk};

/// The ways on-premises connects to the estate (§6.3, §6.2).
#[derive(Debug, Clone)]
pub(super) enum Entry {
    Vgw(String),
    /// (transit gateway, VPN attachment).
    Tgw(String, String),
}

/// Whether anything in the model connects on-premises.
pub(super) fn entries(m: &exposure::model::Model) -> Vec<Entry> {
    let mut out: Vec<Entry> = m.vpn_gateways.keys().cloned().map(Entry::Vgw).collect();
    let mut atts: Vec<&TgwAttachment> = m
        .tgw_attachments
        .values()
        .filter(|a| a.kind == TgwAttachmentKind::Vpn)
        .collect();
    atts.sort_by(|a, b| a.id.cmp(&b.id));
    out.extend(
        atts.into_iter()
            .map(|a| Entry::Tgw(a.tgw_id.clone(), a.id.clone())),
    );
    out
}

impl<'m> Walk<'m> {
    /// §0 step 7: the active route the destination subnet's table picks for the reply to `x`
    /// (its table, the route and its description), or `None` (logged) when it has no table,
    /// no route, or a blackhole.
    fn return_route(
        &mut self,
        subnet_id: &str,
        x: Ipv4Addr,
    ) -> Option<(
        &'m exposure::model::RouteTable,
        &'m exposure::model::Route,
        String,
    )> {
        let Some(rt) = self.route_table(subnet_id) else {
            self.log(format!(
                "return route: {subnet_id} has no route table: dropped"
            ));
            return None;
        };
        let Some(r) = self.lookup(rt, x) else {
            self.log(format!(
                "return route: {} has no route for {x}: dropped",
                rt.id
            ));
            return None;
        };
        let desc = Self::route_desc(r);
        if !r.active {
            self.log(format!(
                "return route: {} selects {desc}: blackhole, dropped",
                rt.id
            ));
            return None;
        }
        Some((rt, r, desc))
    }

    /// The VPN connections a VGW terminates.
    fn vgw_connections(&self, vgw: &str) -> Vec<&'m exposure::model::VpnConnection> {
        self.m
            .vpn_connections
            .values()
            .filter(|v| v.vpn_gateway_id.as_deref() == Some(vgw))
            .collect()
    }

    /// A VGW hands `x` to on-premises (`Ok(false)`: dropped; `Err`: not decided). A static
    /// connection carries the destinations of its static routes (§6.3, AWS "static routing":
    /// the VGW routes to the customer gateway what the static routes name); a BGP connection
    /// whatever on-premises advertises, which the snapshot does not say (§6.3: assumed).
    fn vgw_carries(&mut self, vgw: &str, x: Ipv4Addr, what: &str) -> Result<bool, String> {
        let conns = self.vgw_connections(vgw);
        if conns.is_empty() {
            return Err(format!(
                "{vgw} has no VPN connection in the snapshot (a Direct Connect link?): where it sends {x} is not described"
            ));
        }
        let carrying: Vec<&exposure::model::VpnConnection> = conns
            .iter()
            .copied()
            .filter(|c| {
                !c.static_routes_only
                    || c.static_routes
                        .iter()
                        .filter_map(v4)
                        .any(|n| n.contains(&x))
            })
            .collect();
        if carrying.is_empty() {
            self.log(format!(
                "{what}: the VPN connections of {vgw} are static and none has a static route for {x}: dropped (§6.3)"
            ));
            return Ok(false);
        }
        if carrying
            .iter()
            .all(|c| self.facts.vpns_down.contains(&c.id))
        {
            return Err(format!(
                "the tunnels of {} are all DOWN in its telemetry (the docs say nothing of tunnel status)",
                carrying
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        self.log(format!(
            "{what}: {vgw} hands {x} to {} ({}); on-premises beyond is not in the snapshot (§6.3: assumed)",
            carrying
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            if carrying.iter().any(|c| !c.static_routes_only) {
                "BGP"
            } else {
                "a static route covers it"
            }
        ));
        Ok(true)
    }

    /// A transit gateway's VPN attachment hands a packet to on-premises: its routes are the
    /// gateway's (the connection lists none); only the tunnels' status is left.
    fn tgw_vpn_carries(&mut self, att: &str, what: &str) -> Result<bool, String> {
        let conn = self
            .m
            .tgw_attachments
            .values()
            .find(|a| a.id == att)
            .map(|a| a.resource_id.clone())
            .unwrap_or_default();
        if self.facts.vpns_down.contains(&conn) {
            return Err(format!(
                "the tunnels of {conn} are all DOWN in its telemetry (the docs say nothing of tunnel status)"
            ));
        }
        self.log(format!(
            "{what}: {att} ({conn}) hands it to on-premises, which is not in the snapshot (§6.3: assumed)"
        ));
        Ok(true)
    }

    /// A packet for a destination outside the VPC routed to a VGW by something else than an
    /// on-premises flow (an ENI of another VPC, an internet address): dropped when no
    /// connection carries it, else where on-premises sends it is not described.
    pub(super) fn vgw_elsewhere(
        &mut self,
        subnet_id: &str,
        vgw: &str,
        dst: Ipv4Addr,
        what: &str,
    ) -> bool {
        let vpc = self
            .m
            .subnets
            .get(subnet_id)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        if !self.vgw_attached_to(vgw, &vpc) {
            self.log(format!("{what}: {vgw} is not attached to {vpc}: dropped"));
            return false;
        }
        match self.vgw_carries(vgw, dst, what) {
            Ok(false) => false,
            Err(why) => self.stop_undecided(what, why),
            Ok(true) => self.stop_undecided(
                what,
                format!("{dst} is routed to on-premises by {vgw}: where on-premises sends it on is not in the snapshot"),
            ),
        }
    }

    fn vgw_attached_to(&self, vgw: &str, vpc: &str) -> bool {
        self.m
            .vpn_gateways
            .get(vgw)
            .is_some_and(|g| g.vpc_ids.iter().any(|v| v == vpc))
    }

    /// `--from <on-premises address> --to <an ENI's private IP>`: through any entry.
    pub(super) fn onprem_to_eni(
        &mut self,
        x: Ipv4Addr,
        d: &NetworkInterface,
        dip: Ipv4Addr,
    ) -> bool {
        self.log(format!(
            "packet: {x}:{} -> {dip}:{} {} from on-premises to {}",
            self.sport,
            self.dport,
            self.proto_name(),
            d.id
        ));
        for e in entries(self.m) {
            self.doubt.replace(None);
            let ok = match &e {
                Entry::Vgw(g) => self.vgw_to_eni(g, x, d, dip),
                Entry::Tgw(t, a) => self.tgw_vpn_to_eni(t, a, x, d, dip),
            };
            if self.settle(ok) {
                return true;
            }
        }
        false
    }

    /// On-premises -> ENI through VGW `g` (§6.3): the VGW delivers into its VPC only, the
    /// destination subnet's NACL inbound, the ENI's groups (CIDR rules; a reference never
    /// matches an on-premises sender, §1.3), then the reply: the destination subnet's table
    /// must send it back to `g` (§6.3 "return route to the VGW", §0 step 7), the NACL
    /// outbound with ports swapped, and a connection of `g` must carry it.
    fn vgw_to_eni(&mut self, g: &str, x: Ipv4Addr, d: &NetworkInterface, dip: Ipv4Addr) -> bool {
        let what = format!("VGW entry {g}");
        let Some(vgw) = self.m.vpn_gateways.get(g) else {
            return false;
        };
        let dvpc = self.vpc_of(d);
        if !vgw.vpc_ids.iter().any(|v| v == &dvpc) {
            self.log(format!(
                "{what}: attached to {} , not to {dvpc}: on-premises reaches only the VGW's own VPC (§6.3): dropped",
                if vgw.vpc_ids.is_empty() {
                    "no VPC".to_string()
                } else {
                    vgw.vpc_ids.join(",")
                }
            ));
            return false;
        }
        if self
            .m
            .route_tables
            .values()
            .any(|rt| rt.gateway_ids.iter().any(|x| x == g))
        {
            return self.stop_undecided(
                &what,
                format!("{g} has a gateway route table (not generated)"),
            );
        }
        if !self.vpc_contains(&dvpc, dip) {
            self.log(format!("{what}: {dip} is not in {dvpc}: dropped"));
            return false;
        }
        // Which connection the packet comes in by: one whose tunnels are up.
        let conns = self.vgw_connections(g);
        if conns.is_empty() {
            return self.stop_undecided(
                &what,
                format!("{g} has no VPN connection in the snapshot (a Direct Connect link?)"),
            );
        }
        if conns.iter().all(|c| self.facts.vpns_down.contains(&c.id)) {
            return self.stop_undecided(
                &what,
                format!("the tunnels of every VPN connection of {g} are DOWN in its telemetry (the docs say nothing of tunnel status)"),
            );
        }
        self.log(format!(
            "{what}: into {dvpc}, local delivery to {}",
            d.subnet_id
        ));
        if !self.nacl_allows(&d.subnet_id, false, x, self.dport, "destination NACL in") {
            return false;
        }
        if !self.sg_allows(d, true, x) {
            return false;
        }
        // §0 step 7: the reply follows the destination subnet's table.
        let Some((rt, r, desc)) = self.return_route(&d.subnet_id, x) else {
            return false;
        };
        match &r.target {
            RouteTarget::VpnGateway(v) if v == g => {
                self.log(format!(
                    "return route: {} selects {desc}: back to {g}",
                    rt.id
                ));
            }
            RouteTarget::VpnGateway(_) | RouteTarget::TransitGateway(_) => {
                let rt_id = rt.id.clone();
                return self.stop_undecided(
                    "return route",
                    format!("{rt_id} selects {desc}: the reply to on-premises leaves by another way than the request came ({g}); whether on-premises takes it is not in the snapshot"),
                );
            }
            _ => {
                self.log(format!(
                    "return route: {} selects {desc}: not back to {g} (§6.3: the destination subnet needs a return route to the VGW): dropped",
                    rt.id
                ));
                return false;
            }
        }
        if !self.nacl_allows(
            &d.subnet_id,
            true,
            x,
            self.sport,
            "reply: destination NACL out",
        ) {
            return false;
        }
        match self.vgw_carries(g, x, "reply: VGW") {
            Ok(true) => {
                self.log("reachable: every check passes".into());
                true
            }
            Ok(false) => false,
            Err(why) => self.stop_undecided("reply: VGW", why),
        }
    }

    /// The TGW route table associated with `att` picks the route for `dst` (§6.2): `Ok(None)`
    /// when it drops (logged), `Err` when not decided.
    fn tgw_pick(
        &mut self,
        tgw: &str,
        att: &TgwAttachment,
        dst: Ipv4Addr,
        what: &str,
    ) -> Result<Option<&'m TgwAttachment>, String> {
        let Some(table_id) = att.route_table_id.clone() else {
            return Err(format!(
                "{} is associated with no TGW route table (§6.2: every attachment is associated with exactly one)",
                att.id
            ));
        };
        let Some(table) = self.m.tgw_route_tables.get(&table_id) else {
            return Err(format!(
                "{}'s route table {table_id} is not in the snapshot",
                att.id
            ));
        };
        let Some(route) = self.tgw_lookup(table, dst) else {
            self.log(format!(
                "{what}: {table_id} has no route for {dst}: dropped"
            ));
            return Ok(None);
        };
        let desc = format!(
            "{} {} -> {}",
            route.destination,
            if route.propagated {
                "propagated"
            } else {
                "static"
            },
            if route.blackhole {
                "blackhole".to_string()
            } else {
                route.attachment_ids.join(",")
            }
        );
        if route.blackhole {
            self.log(format!(
                "{what}: {table_id} selects {desc}: blackhole, dropped"
            ));
            return Ok(None);
        }
        let [aid] = &route.attachment_ids[..] else {
            return Err(format!("{table_id} selects {desc}: not one attachment"));
        };
        let Some(out) = self.m.tgw_attachment(tgw, aid) else {
            return Err(format!(
                "{table_id} selects {desc}: the attachment is not in the snapshot"
            ));
        };
        self.log(format!("{what}: {table_id} selects {desc}"));
        Ok(Some(out))
    }

    /// On-premises -> ENI through VPN attachment `a` of `tgw` (§6.2, §6.3): the table
    /// associated with `a` must send `dip` to the VPC attachment of the ENI's VPC; the
    /// packet comes from no Availability Zone, so any attachment subnet may take it out
    /// (as `tgw_leg`: all pass, none pass, or not decided); its table delivers locally and
    /// the NACLs are those of `tgw_exit`. The reply: the destination subnet's table sends
    /// `x` to the gateway from a zone with an attachment subnet (§9.2), the destination
    /// subnet's outbound and the entry attachment subnet's inbound rules, and the table of
    /// the VPC attachment must send it to `a`.
    fn tgw_vpn_to_eni(
        &mut self,
        tgw: &str,
        a: &str,
        x: Ipv4Addr,
        d: &NetworkInterface,
        dip: Ipv4Addr,
    ) -> bool {
        let what = format!("TGW VPN entry {a}");
        let Some(att) = self.m.tgw_attachment(tgw, a) else {
            return false;
        };
        let conn = att.resource_id.clone();
        if self.facts.vpns_down.contains(&conn) {
            return self.stop_undecided(
                &what,
                format!("the tunnels of {conn} are all DOWN in its telemetry (the docs say nothing of tunnel status)"),
            );
        }
        let dvpc = self.vpc_of(d);
        let out = match self.tgw_pick(tgw, att, dip, "TGW route") {
            Err(why) => return self.stop_undecided("TGW route", why),
            Ok(None) => return false,
            Ok(Some(o)) => o,
        };
        if out.kind != TgwAttachmentKind::Vpc {
            let id = out.id.clone();
            return self.stop_undecided(
                "TGW route",
                format!("traffic from on-premises for {dip} goes out by {id}, not a VPC attachment: not described"),
            );
        }
        let candidates = out.subnet_ids.clone();
        if candidates.is_empty() {
            self.log(format!("TGW exit: {} has no subnet: dropped", out.id));
            return false;
        }
        self.log(format!(
            "TGW exit: out through {} ({}; the packet comes from no Availability Zone)",
            out.id,
            candidates.join(" or ")
        ));
        let results: Vec<bool> = candidates
            .iter()
            .map(|c| {
                self.tgw_exit(
                    c,
                    x,
                    &d.subnet_id,
                    dip,
                    &dvpc,
                    self.dport,
                    "destination NACL in",
                )
            })
            .collect();
        if results.iter().all(|&ok| !ok) {
            return false;
        }
        if !results.iter().all(|&ok| ok) {
            self.set_doubt(format!(
                "{tgw} picks an attachment subnet of {} that lets {dip} through (some do, some do not)",
                out.id
            ));
        }
        if !self.sg_allows(d, true, x) {
            return false;
        }
        // The reply.
        let Some((rt, r, desc)) = self.return_route(&d.subnet_id, x) else {
            return false;
        };
        match &r.target {
            RouteTarget::TransitGateway(t) if t == tgw => {
                self.log(format!(
                    "return route: {} selects {desc}: back to {tgw}",
                    rt.id
                ));
            }
            RouteTarget::VpnGateway(_) | RouteTarget::TransitGateway(_) => {
                let rt_id = rt.id.clone();
                return self.stop_undecided(
                    "return route",
                    format!("{rt_id} selects {desc}: the reply to on-premises leaves by another way than the request came ({a}); whether on-premises takes it is not in the snapshot"),
                );
            }
            _ => {
                self.log(format!(
                    "return route: {} selects {desc}: not back to {tgw} (§6.3: the destination subnet needs a return route to the TGW): dropped",
                    rt.id
                ));
                return false;
            }
        }
        self.reply_into_tgw(tgw, a, d, dip, x)
    }

    /// The reply from `d` into `tgw` towards on-premises `x`, which must come out by the VPN
    /// attachment `a` the request came in by.
    fn reply_into_tgw(
        &mut self,
        tgw: &str,
        a: &str,
        d: &NetworkInterface,
        dip: Ipv4Addr,
        x: Ipv4Addr,
    ) -> bool {
        let dvpc = self.vpc_of(d);
        let Some(vatt) = self.vpc_attachment(tgw, &dvpc) else {
            self.log(format!("reply: {dvpc} has no attachment on {tgw}: dropped"));
            return false;
        };
        let az = self.subnet_az(&d.subnet_id);
        let Some(entry) = vatt
            .subnet_ids
            .iter()
            .find(|s| self.subnet_az(s) == az)
            .cloned()
        else {
            self.log(format!(
                "reply: {} has no subnet in the zone of {} (§6.2, §9.2): dropped",
                vatt.id, d.subnet_id
            ));
            return false;
        };
        let _ = dip;
        if !self.nacl_allows(
            &d.subnet_id,
            true,
            x,
            self.sport,
            "reply: destination NACL out",
        ) || !self.nacl_allows(
            &entry,
            false,
            d_addr(d, dip),
            self.sport,
            "reply: TGW entry NACL in",
        ) {
            return false;
        }
        let out = match self.tgw_pick(tgw, vatt, x, "reply: TGW route") {
            Err(why) => return self.stop_undecided("reply: TGW route", why),
            Ok(None) => return false,
            Ok(Some(o)) => o,
        };
        if out.id == a {
            return match self.tgw_vpn_carries(a, "reply: TGW VPN") {
                Ok(ok) => {
                    if ok {
                        self.log("reachable: every check passes".into());
                    }
                    ok
                }
                Err(why) => self.stop_undecided("reply: TGW VPN", why),
            };
        }
        let id = out.id.clone();
        self.stop_undecided(
            "reply: TGW route",
            format!("the reply to on-premises {x} goes out by {id}, not the VPN attachment {a} the request came by: not described"),
        )
    }

    /// `--from <ENI> --to <on-premises address>` (§6.3): the ENI's egress rules, its
    /// subnet's route: to the VGW of its VPC (the subnet's NACL outbound, a connection must
    /// carry `x`) or to a transit gateway whose table sends `x` to a VPN attachment (the NACLs
    /// into the gateway as `tgw_enter`); the reply comes back the same way (on-premises
    /// routing is assumed), through the NACLs with ports swapped. Any other route drops it (a
    /// private address at an internet gateway, a peering, no edge-to-edge routing, §6.1).
    pub(super) fn eni_to_onprem(
        &mut self,
        s: &NetworkInterface,
        sip: Ipv4Addr,
        x: Ipv4Addr,
    ) -> bool {
        self.log(format!(
            "packet: {sip}:{} -> {x}:{} {} from {} to on-premises",
            self.sport,
            self.dport,
            self.proto_name(),
            s.id
        ));
        if !self.sg_allows(s, false, x) {
            return false;
        }
        let svpc = self.vpc_of(s);
        let Some(rt) = self.route_table(&s.subnet_id) else {
            self.log(format!(
                "forward route: {} has no route table: dropped",
                s.subnet_id
            ));
            return false;
        };
        let Some(r) = self.lookup(rt, x) else {
            self.log(format!(
                "forward route: {} has no route for {x}: dropped",
                rt.id
            ));
            return false;
        };
        let desc = Self::route_desc(r);
        if !r.active {
            self.log(format!(
                "forward route: {} selects {desc}: blackhole, dropped",
                rt.id
            ));
            return false;
        }
        match r.target.clone() {
            RouteTarget::VpnGateway(g) => {
                let rt_id = rt.id.clone();
                if !self.vgw_attached_to(&g, &svpc) {
                    self.log(format!("forward route: {rt_id} selects {desc}: {g} is not attached to {svpc}: dropped"));
                    return false;
                }
                self.log(format!(
                    "forward route: {rt_id} selects {desc}: VPN gateway"
                ));
                if !self.nacl_allows(&s.subnet_id, true, x, self.dport, "source NACL out") {
                    return false;
                }
                match self.vgw_carries(&g, x, "VGW") {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(why) => return self.stop_undecided("VGW", why),
                }
                // The reply comes in by the same VGW and local routing (§6.3).
                if !self.nacl_allows(&s.subnet_id, false, x, self.sport, "reply: source NACL in") {
                    return false;
                }
                self.log("reachable: every check passes".into());
                true
            }
            RouteTarget::TransitGateway(t) => {
                let rt_id = rt.id.clone();
                self.log(format!(
                    "forward route: {rt_id} selects {desc}: transit gateway"
                ));
                let Some(vatt) = self.vpc_attachment(&t, &svpc) else {
                    self.log(format!(
                        "TGW entry: {svpc} has no attachment on {t}: dropped"
                    ));
                    return false;
                };
                let az = self.subnet_az(&s.subnet_id);
                let Some(entry) = vatt
                    .subnet_ids
                    .iter()
                    .find(|e| self.subnet_az(e) == az)
                    .cloned()
                else {
                    self.log(format!(
                        "TGW entry: {} has no subnet in the zone of {} (§6.2, §9.2): dropped",
                        vatt.id, s.subnet_id
                    ));
                    return false;
                };
                if !self.nacl_allows(&s.subnet_id, true, x, self.dport, "source NACL out")
                    || !self.nacl_allows(&entry, false, sip, self.dport, "TGW entry NACL in")
                {
                    return false;
                }
                let out = match self.tgw_pick(&t, vatt, x, "TGW route") {
                    Err(why) => return self.stop_undecided("TGW route", why),
                    Ok(None) => return false,
                    Ok(Some(o)) => o,
                };
                if out.kind != TgwAttachmentKind::Vpn {
                    let id = out.id.clone();
                    return self.stop_undecided(
                        "TGW route",
                        format!("traffic for on-premises {x} goes out by {id}, not a VPN attachment: not described"),
                    );
                }
                let a = out.id.clone();
                match self.tgw_vpn_carries(&a, "TGW VPN") {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(why) => return self.stop_undecided("TGW VPN", why),
                }
                // The reply comes back by the same attachment: its table must send the
                // source to this VPC's attachment, whose subnets take it to the ENI.
                let Some(att) = self.m.tgw_attachment(&t, &a) else {
                    return false;
                };
                let back = match self.tgw_pick(&t, att, sip, "reply: TGW route") {
                    Err(why) => return self.stop_undecided("reply: TGW route", why),
                    Ok(None) => return false,
                    Ok(Some(o)) => o,
                };
                if back.kind != TgwAttachmentKind::Vpc {
                    let id = back.id.clone();
                    return self.stop_undecided(
                        "reply: TGW route",
                        format!("the reply for {sip} goes out by {id}, not a VPC attachment: not described"),
                    );
                }
                let candidates = back.subnet_ids.clone();
                if candidates.is_empty() {
                    self.log(format!(
                        "reply: TGW exit: {} has no subnet: dropped",
                        back.id
                    ));
                    return false;
                }
                let results: Vec<bool> = candidates
                    .iter()
                    .map(|c| {
                        self.tgw_exit(
                            c,
                            x,
                            &s.subnet_id,
                            sip,
                            &svpc,
                            self.sport,
                            "reply: source NACL in",
                        )
                    })
                    .collect();
                if results.iter().all(|&ok| !ok) {
                    return false;
                }
                if !results.iter().all(|&ok| ok) {
                    self.set_doubt(format!(
                        "{t} picks an attachment subnet of {} that lets the reply to {sip} through (some do, some do not)",
                        back.id
                    ));
                }
                self.log("reachable: every check passes".into());
                true
            }
            _ => {
                // Anything else: `route_private` says where it goes (and drops it: `x` is in
                // no VPC).
                self.route_private(&s.subnet_id, x, "", "forward route")
            }
        }
    }
}

/// The address the reply comes from (the ENI's address the request was sent to).
fn d_addr(_d: &NetworkInterface, dip: Ipv4Addr) -> Ipv4Addr {
    dip
}

impl<'m> Walk<'m> {
    /// Whether `d` is a load balancer's target at the flow's port (the engine then answers
    /// through the listeners too; the reference does not model on-premises clients there).
    pub(super) fn lb_target_at(&self, d: &NetworkInterface) -> bool {
        self.m.target_groups.values().any(|tg| {
            tg.targets.iter().any(|t| {
                self.resolve_target(tg, t)
                    .is_some_and(|r| r.eni.id == d.id && r.port == self.dport)
            })
        })
    }
}

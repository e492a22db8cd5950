//! Packet-set algebra.
//!
//! A [`PacketSet`] is a finite union of boxes over five dimensions: IP
//! protocol, source address, destination address, source port and
//! destination port (for ICMP, the "destination port" holds `type * 256 +
//! code`). Every filter — security group, NACL, route — is expressed as a set
//! of boxes, and evaluation is intersection and subtraction. No loop ever runs
//! over individual addresses or ports.
//!
//! IPv4 and IPv6 share one address axis: IPv4 addresses live in the
//! IPv4-mapped block `::ffff:0:0/96`, and IPv6 prefixes are clipped so that
//! they never cover that block. An IPv4 rule therefore never matches an IPv6
//! packet and vice versa, as AWS requires.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::model::Protocol;

/// An inclusive interval.
pub type Interval = (u128, u128);

/// The IPv4-mapped block.
const V4_BASE: u128 = 0xffff_0000_0000;
const V4_LAST: u128 = V4_BASE + 0xffff_ffff;

/// Dimension indexes of a [`PBox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// IP protocol number.
    Proto = 0,
    /// Source address.
    Src = 1,
    /// Destination address.
    Dst = 2,
    /// Source port.
    SrcPort = 3,
    /// Destination port (or ICMP type*256+code).
    DstPort = 4,
}

/// A box: one interval per dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PBox(pub [Interval; 5]);

/// Encodes an address on the shared axis.
pub fn encode(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => V4_BASE + u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Decodes an address of the shared axis.
pub fn decode(v: u128) -> IpAddr {
    if (V4_BASE..=V4_LAST).contains(&v) {
        IpAddr::V4(Ipv4Addr::from((v - V4_BASE) as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

/// Whether an encoded address is IPv4.
pub fn is_v4(v: u128) -> bool {
    (V4_BASE..=V4_LAST).contains(&v)
}

/// The intervals a prefix covers on the shared axis (one for IPv4; one or two for IPv6).
pub fn net_intervals(net: &IpNet) -> Vec<Interval> {
    match net {
        IpNet::V4(n) => vec![(
            V4_BASE + u32::from(n.network()) as u128,
            V4_BASE + u32::from(n.broadcast()) as u128,
        )],
        IpNet::V6(n) => {
            let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
            subtract_interval((lo, hi), (V4_BASE, V4_LAST))
        }
    }
}

/// The fewest prefixes that cover exactly an interval of the shared axis (split where it
/// crosses from IPv6 into the IPv4 stretch and back).
pub fn interval_nets(iv: Interval) -> Vec<IpNet> {
    let mut out = Vec::new();
    for (part, v4) in [
        ((iv.0, iv.1.min(V4_BASE.saturating_sub(1))), false),
        ((iv.0.max(V4_BASE), iv.1.min(V4_LAST)), true),
        ((iv.0.max(V4_LAST + 1), iv.1), false),
    ] {
        let inside = part.0 <= part.1 && (v4 || part.1 < V4_BASE || part.0 > V4_LAST);
        if inside {
            out.extend(family_nets(part, v4));
        }
    }
    out
}

/// [`interval_nets`] for an interval within one family's stretch.
fn family_nets(iv: Interval, v4: bool) -> Vec<IpNet> {
    let (base, bits) = if v4 { (V4_BASE, 32) } else { (0, 128) };
    let (mut lo, hi) = (iv.0 - base, iv.1 - base);
    let mut out = Vec::new();
    loop {
        // The largest aligned block starting at `lo` that ends by `hi`.
        let mut size = if lo == 0 {
            bits
        } else {
            lo.trailing_zeros().min(bits)
        };
        while size > 0 && (size >= 128 || lo + ((1u128 << size) - 1) > hi) {
            size -= 1;
        }
        let len = (bits - size) as u8;
        out.push(if v4 {
            IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::from(lo as u32), len).expect("prefix length"))
        } else {
            IpNet::V6(ipnet::Ipv6Net::new(Ipv6Addr::from(lo), len).expect("prefix length"))
        });
        let last = if size >= 128 {
            u128::MAX
        } else {
            lo + ((1u128 << size) - 1)
        };
        if last >= hi {
            return out;
        }
        lo = last + 1;
    }
}

/// The single interval of one address.
pub fn addr_interval(ip: IpAddr) -> Interval {
    let v = encode(ip);
    (v, v)
}

/// All IPv4 addresses.
pub const ALL_V4: Interval = (V4_BASE, V4_LAST);

/// All IPv6 addresses: the shared axis less the IPv4-mapped block.
pub fn v6_intervals() -> [Interval; 2] {
    [(0, V4_BASE - 1), (V4_LAST + 1, u128::MAX)]
}

/// All addresses of both families.
pub const ALL_ADDRS: Interval = (0, u128::MAX);

fn subtract_interval(a: Interval, b: Interval) -> Vec<Interval> {
    if b.1 < a.0 || b.0 > a.1 {
        return vec![a];
    }
    let mut out = Vec::new();
    if a.0 < b.0 {
        out.push((a.0, b.0 - 1));
    }
    if a.1 > b.1 {
        out.push((b.1 + 1, a.1));
    }
    out
}

fn intersect_interval(a: Interval, b: Interval) -> Option<Interval> {
    let lo = a.0.max(b.0);
    let hi = a.1.min(b.1);
    (lo <= hi).then_some((lo, hi))
}

impl PBox {
    /// The box of every packet.
    pub const FULL: PBox = PBox([(0, 255), ALL_ADDRS, ALL_ADDRS, (0, 65535), (0, 65535)]);

    /// The interval of a dimension.
    pub fn get(&self, d: Dim) -> Interval {
        self.0[d as usize]
    }

    /// A copy with one dimension replaced.
    pub fn with(mut self, d: Dim, i: Interval) -> PBox {
        self.0[d as usize] = i;
        self
    }

    /// The box with sources, destinations and source ports widened to everything.
    pub fn ports_only(&self) -> PBox {
        self.with(Dim::Src, ALL_ADDRS)
            .with(Dim::Dst, ALL_ADDRS)
            .with(Dim::SrcPort, (0, 65535))
    }

    /// Intersection of two boxes.
    pub fn intersect(&self, other: &PBox) -> Option<PBox> {
        let mut out = [(0, 0); 5];
        for (k, slot) in out.iter_mut().enumerate() {
            *slot = intersect_interval(self.0[k], other.0[k])?;
        }
        Some(PBox(out))
    }

    /// `self` minus `other`, as disjoint boxes.
    pub fn subtract(&self, other: &PBox) -> Vec<PBox> {
        let mut out = Vec::new();
        self.subtract_into(other, &mut out);
        out
    }

    /// [`Self::subtract`], appending the boxes to `out` (no allocation of its own).
    fn subtract_into(&self, other: &PBox, out: &mut Vec<PBox>) {
        let Some(common) = self.intersect(other) else {
            out.push(*self);
            return;
        };
        let mut rest = *self;
        for k in 0..5 {
            let (a, c) = (rest.0[k], common.0[k]);
            if a.0 < c.0 {
                let mut b = rest;
                b.0[k] = (a.0, c.0 - 1);
                out.push(b);
            }
            if a.1 > c.1 {
                let mut b = rest;
                b.0[k] = (c.1 + 1, a.1);
                out.push(b);
            }
            rest.0[k] = c;
        }
    }

    fn contains(&self, other: &PBox) -> bool {
        (0..5).all(|k| self.0[k].0 <= other.0[k].0 && other.0[k].1 <= self.0[k].1)
    }
}

/// A set of packets: a union of boxes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PacketSet {
    boxes: Vec<PBox>,
}

impl PacketSet {
    /// The empty set.
    pub fn empty() -> PacketSet {
        PacketSet::default()
    }

    /// A set of one box.
    pub fn from_box(b: PBox) -> PacketSet {
        PacketSet { boxes: vec![b] }
    }

    /// A set from boxes.
    pub fn from_boxes(boxes: impl IntoIterator<Item = PBox>) -> PacketSet {
        let mut s = PacketSet {
            boxes: boxes.into_iter().collect(),
        };
        s.compact();
        s
    }

    /// The boxes.
    pub fn boxes(&self) -> &[PBox] {
        &self.boxes
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Whether the two sets share a packet: `!self.intersect(other).is_empty()`, without
    /// building the intersection (stops at the first pair of boxes that meet).
    pub fn meets(&self, other: &PacketSet) -> bool {
        self.boxes
            .iter()
            .any(|x| other.boxes.iter().any(|y| x.intersect(y).is_some()))
    }

    /// Intersection.
    pub fn intersect(&self, other: &PacketSet) -> PacketSet {
        let mut out = Vec::new();
        if self.boxes.len() * other.boxes.len() <= 16 {
            for a in &self.boxes {
                for b in &other.boxes {
                    if let Some(c) = a.intersect(b) {
                        out.push(c);
                    }
                }
            }
            return PacketSet::from_pieces(out);
        }
        // Only boxes that meet the other set's bounding box can meet one of its boxes: on
        // sets far apart in some dimension (another VPC's sources, other ports) this skips
        // most of the pairs.
        let (Some(hull_self), Some(hull_other)) = (self.hull(), other.hull()) else {
            return PacketSet::empty();
        };
        let near: Vec<&PBox> = other
            .boxes
            .iter()
            .filter(|b| b.intersect(&hull_self).is_some())
            .collect();
        if near.is_empty() {
            return PacketSet::empty();
        }
        for a in self
            .boxes
            .iter()
            .filter(|a| a.intersect(&hull_other).is_some())
        {
            for b in &near {
                if let Some(c) = a.intersect(b) {
                    out.push(c);
                }
            }
        }
        // Pieces of disjoint boxes are disjoint, so the quadratic containment check of
        // `compact` would find nothing in the usual case.
        PacketSet::from_pieces(out)
    }

    /// The smallest box holding every box of the set (`None` when empty).
    fn hull(&self) -> Option<PBox> {
        let (first, rest) = self.boxes.split_first()?;
        let mut h = *first;
        for b in rest {
            for k in 0..5 {
                h.0[k].0 = h.0[k].0.min(b.0[k].0);
                h.0[k].1 = h.0[k].1.max(b.0[k].1);
            }
        }
        Some(h)
    }

    /// Difference.
    pub fn subtract(&self, other: &PacketSet) -> PacketSet {
        let Some(hull) = self.hull() else {
            return PacketSet::empty();
        };
        let mut current = self.boxes.clone();
        let mut pieces: Vec<PBox> = Vec::new();
        // Only the boxes that meet this set's hull can take something away. Each box of
        // `current` that one meets is replaced by its pieces in place (the order of the boxes
        // does not matter: the result is sorted), so the others are not copied.
        for b in other.boxes.iter().filter(|b| b.intersect(&hull).is_some()) {
            let mut i = 0;
            while i < current.len() {
                if current[i].intersect(b).is_some() {
                    current.swap_remove(i).subtract_into(b, &mut pieces);
                } else {
                    i += 1;
                }
            }
            current.append(&mut pieces);
            if current.is_empty() {
                break;
            }
        }
        // Pieces of a box minus another do not overlap each other: no containment to find.
        PacketSet::from_pieces(current)
    }

    /// A set from boxes cut out of this set's boxes (pieces of disjoint boxes are disjoint):
    /// sorted and without duplicates, without `compact`'s quadratic containment check.
    pub(crate) fn from_pieces(mut boxes: Vec<PBox>) -> PacketSet {
        boxes.sort_unstable();
        boxes.dedup();
        PacketSet { boxes }
    }

    /// Union with a set known to share no packet with this one (no subtraction needed).
    pub fn union_disjoint(&self, other: &PacketSet) -> PacketSet {
        debug_assert!(self.intersect(other).is_empty());
        PacketSet::from_boxes(self.boxes.iter().chain(&other.boxes).copied())
    }

    /// Union.
    pub fn union(&self, other: &PacketSet) -> PacketSet {
        // With an empty side or both sides equal there is nothing to subtract: the result is
        // the other side's (or this side's) boxes, compacted.
        if self.boxes.is_empty() || self == other {
            return PacketSet::from_boxes(other.boxes.iter().copied());
        }
        // Keep boxes disjoint so that projections and counts stay exact.
        let extra = other.subtract(self);
        let mut boxes = self.boxes.clone();
        boxes.extend(extra.boxes);
        PacketSet::from_boxes(boxes)
    }

    /// Restricts one dimension to a set of intervals.
    pub fn restrict(&self, d: Dim, intervals: &[Interval]) -> PacketSet {
        let mut out = Vec::new();
        for b in &self.boxes {
            for i in intervals {
                if let Some(x) = intersect_interval(b.get(d), *i) {
                    out.push(b.with(d, x));
                }
            }
        }
        PacketSet::from_pieces(out)
    }

    /// Removes the packets whose dimension `d` lies in `intervals`: the same as subtracting
    /// `self.restrict(d, intervals)`, without the subtraction's cost.
    pub fn exclude(&self, d: Dim, intervals: &[Interval]) -> PacketSet {
        self.restrict(d, &complement(&merge(intervals.to_vec())))
    }

    /// Protocols and destination ports only: sources, destinations and source ports widened.
    pub fn ports_only(&self) -> PacketSet {
        PacketSet::from_boxes(self.boxes.iter().map(PBox::ports_only))
    }

    /// Replaces one dimension by the given interval in every box.
    pub fn rewrite(&self, d: Dim, i: Interval) -> PacketSet {
        PacketSet::from_boxes(self.boxes.iter().map(|b| b.with(d, i)))
    }

    /// Maps every box through a function (address translation).
    pub fn map_boxes(&self, f: impl Fn(&PBox) -> Vec<PBox>) -> PacketSet {
        PacketSet::from_boxes(self.boxes.iter().flat_map(f))
    }

    /// The union of the intervals of one dimension, merged and sorted.
    pub fn project(&self, d: Dim) -> Vec<Interval> {
        merge(self.boxes.iter().map(|b| b.get(d)).collect())
    }

    /// The same set with fewer boxes: boxes equal in every dimension but `d`, whose `d`
    /// intervals touch or overlap, become one (a VPC's adjacent subnets as one source range).
    pub fn coalesce(&self, d: Dim) -> PacketSet {
        let k = d as usize;
        let key = |b: &PBox| {
            let mut o = b.0;
            o[k] = (0, 0);
            (o, b.0[k])
        };
        let mut boxes = self.boxes.clone();
        boxes.sort_by_key(key);
        let mut out: Vec<PBox> = Vec::with_capacity(boxes.len());
        for b in boxes {
            if let Some(last) = out.last_mut() {
                let (lk, li) = key(last);
                let (bk, bi) = key(&b);
                if lk == bk && bi.0 <= li.1.saturating_add(1) {
                    last.0[k].1 = li.1.max(bi.1);
                    continue;
                }
            }
            out.push(b);
        }
        PacketSet::from_boxes(out)
    }

    /// The same packets in as few boxes as coalescing along every dimension, repeated until
    /// nothing changes, gives (pieces a subtraction cut apart become one box again).
    pub fn coalesce_fully(&self) -> PacketSet {
        const DIMS: [Dim; 5] = [Dim::SrcPort, Dim::DstPort, Dim::Proto, Dim::Src, Dim::Dst];
        let mut cur = self.clone();
        loop {
            let before = cur.boxes.len();
            for d in DIMS {
                cur = cur.coalesce(d);
            }
            if cur.boxes.len() == before {
                return cur;
            }
        }
    }

    /// The set with its boxes compacted as [`PacketSet::from_boxes`] does, in an allocation
    /// of the right size (reusing this set's boxes).
    pub(crate) fn into_compact(mut self) -> PacketSet {
        self.compact();
        self.boxes.shrink_to_fit();
        self
    }

    /// Removes boxes contained in others and exact duplicates.
    fn compact(&mut self) {
        if self.boxes.len() < 2 {
            return;
        }
        self.boxes.sort();
        self.boxes.dedup();
        if self.boxes.len() > 64 {
            return;
        }
        let boxes = std::mem::take(&mut self.boxes);
        for (i, b) in boxes.iter().enumerate() {
            let covered = boxes
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.contains(b) && (o != b || j < i));
            if !covered {
                self.boxes.push(*b);
            }
        }
    }
}

/// A packet set kept for later in half the memory: protocols and ports stored in the width
/// they have (a box is 80 bytes instead of 160). For sets held in bulk, such as the network
/// part of the all-pairs evaluation; [`PackedSet::unpack`] gives back the same boxes.
#[derive(Debug, Clone, Default)]
pub struct PackedSet {
    packed: Vec<PackedBox>,
    /// The set as it was, when a protocol or port does not fit the narrow fields (never
    /// in practice: protocols are bytes, ports and ICMP type/code 16 bits).
    wide: Option<PacketSet>,
}

#[derive(Debug, Clone, Copy)]
struct PackedBox {
    src: Interval,
    dst: Interval,
    proto: (u8, u8),
    src_port: (u16, u16),
    dst_port: (u16, u16),
}

impl PacketSet {
    /// The set packed for keeping.
    pub fn pack(&self) -> PackedSet {
        let mut out = PackedSet {
            packed: Vec::with_capacity(self.boxes.len()),
            wide: None,
        };
        let narrow = |iv: Interval| -> Option<(u16, u16)> {
            Some((u16::try_from(iv.0).ok()?, u16::try_from(iv.1).ok()?))
        };
        for b in &self.boxes {
            let p = b.get(Dim::Proto);
            let packed = (|| {
                Some(PackedBox {
                    src: b.get(Dim::Src),
                    dst: b.get(Dim::Dst),
                    proto: (u8::try_from(p.0).ok()?, u8::try_from(p.1).ok()?),
                    src_port: narrow(b.get(Dim::SrcPort))?,
                    dst_port: narrow(b.get(Dim::DstPort))?,
                })
            })();
            match packed {
                Some(x) => out.packed.push(x),
                None => {
                    return PackedSet {
                        packed: Vec::new(),
                        wide: Some(self.clone()),
                    }
                }
            }
        }
        out.packed.shrink_to_fit();
        out
    }
}

impl PackedSet {
    /// The boxes, as [`Self::unpack`] would hold them, one at a time.
    pub fn boxes(&self) -> impl Iterator<Item = PBox> + '_ {
        let wide = self.wide.as_ref().map_or(&[][..], |w| &w.boxes[..]);
        self.packed
            .iter()
            .map(PackedBox::unpack)
            .chain(wide.iter().copied())
    }

    /// The set, with the boxes it was packed from, in the same order.
    pub fn unpack(&self) -> PacketSet {
        if let Some(wide) = &self.wide {
            return wide.clone();
        }
        PacketSet {
            boxes: self.packed.iter().map(PackedBox::unpack).collect(),
        }
    }
}

impl PackedBox {
    fn unpack(&self) -> PBox {
        let w = |(a, b): (u16, u16)| (a as u128, b as u128);
        PBox::FULL
            .with(Dim::Proto, (self.proto.0 as u128, self.proto.1 as u128))
            .with(Dim::Src, self.src)
            .with(Dim::Dst, self.dst)
            .with(Dim::SrcPort, w(self.src_port))
            .with(Dim::DstPort, w(self.dst_port))
    }
}

/// Whether `iv` lies within one interval of `merged` (sorted, disjoint, adjacent ones joined:
/// [`merge`]).
pub fn covered(iv: Interval, merged: &[Interval]) -> bool {
    let i = merged.partition_point(|m| m.1 < iv.0);
    merged.get(i).is_some_and(|m| m.0 <= iv.0 && iv.1 <= m.1)
}

/// The values outside merged, sorted intervals (as [`merge`] returns them), as intervals.
pub fn complement(merged: &[Interval]) -> Vec<Interval> {
    let mut gaps = Vec::new();
    let mut next: u128 = 0;
    for &(a, b) in merged {
        if a > next {
            gaps.push((next, a - 1));
        }
        if b == u128::MAX {
            return gaps;
        }
        next = b + 1;
    }
    gaps.push((next, u128::MAX));
    gaps
}

/// Merges intervals into a sorted list of disjoint, non-adjacent intervals.
pub fn merge(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort();
    let mut out: Vec<Interval> = Vec::new();
    for i in v {
        if let Some(last) = out.last_mut() {
            if i.0 <= last.1.saturating_add(1) {
                last.1 = last.1.max(i.1);
                continue;
            }
        }
        out.push(i);
    }
    out
}

/// A human rendering of a port interval list: `22, 80-443`.
pub struct Ports<'a>(pub &'a [Interval]);

impl fmt::Display for Ports<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ranges(f, self.0.iter().copied(), ", ")
    }
}

/// Inclusive ranges as text, `a` or `a-b`, joined by `sep`: `22, 80-443`.
pub fn range_list<T: fmt::Display + PartialEq>(
    ranges: impl IntoIterator<Item = (T, T)>,
    sep: &str,
) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_ranges(&mut out, ranges, sep);
    out
}

/// Writes inclusive ranges as [`range_list`] does, straight into `out`.
pub fn write_ranges<T: fmt::Display + PartialEq>(
    out: &mut impl fmt::Write,
    ranges: impl IntoIterator<Item = (T, T)>,
    sep: &str,
) -> fmt::Result {
    for (i, (a, b)) in ranges.into_iter().enumerate() {
        if i > 0 {
            out.write_str(sep)?;
        }
        if a == b {
            write!(out, "{a}")?;
        } else {
            write!(out, "{a}-{b}")?;
        }
    }
    Ok(())
}

/// Drops boxes whose source and destination are of different address families.
pub fn same_family(set: PacketSet) -> PacketSet {
    let v4 = [ALL_V4];
    let s4 = set.restrict(Dim::Src, &v4).restrict(Dim::Dst, &v4);
    let not4 = v6_intervals();
    let s6 = set.restrict(Dim::Src, &not4).restrict(Dim::Dst, &not4);
    s4.union(&s6)
}

/// Keeps ICMP (1) only between IPv4 addresses and ICMPv6 (58) only between IPv6 addresses: what
/// "ICMP" means to someone asking about ping. The set's packets must be of one family each
/// ([`same_family`]).
pub fn icmp_in_its_family(set: PacketSet) -> PacketSet {
    let not4 = v6_intervals();
    let icmp = Protocol::ICMP as u128;
    let icmpv6 = Protocol::ICMPV6 as u128;
    let mut foreign = vec![PBox::FULL
        .with(Dim::Proto, (icmpv6, icmpv6))
        .with(Dim::Src, ALL_V4)];
    foreign.extend(
        not4.iter()
            .map(|&iv| PBox::FULL.with(Dim::Proto, (icmp, icmp)).with(Dim::Src, iv)),
    );
    set.subtract(&PacketSet::from_boxes(foreign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_become_the_fewest_prefixes() {
        let iv = |a: &str, b: &str| (encode(a.parse().unwrap()), encode(b.parse().unwrap()));
        let text = |iv| {
            interval_nets(iv)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(text(iv("10.0.0.0", "10.0.0.255")), vec!["10.0.0.0/24"]);
        assert_eq!(
            text(iv("10.0.0.1", "10.0.0.6")),
            vec!["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(text(iv("0.0.0.0", "255.255.255.255")), vec!["0.0.0.0/0"]);
        assert_eq!(
            text(iv("52.218.40.10", "52.218.40.10")),
            vec!["52.218.40.10/32"]
        );
        assert_eq!(
            text(iv("2001:db8::", "2001:db8::ffff")),
            vec!["2001:db8::/112"]
        );
        // A range across both families (`0.0.0.0/0` to `::/0` on the shared axis) ends.
        let all = interval_nets(ALL_ADDRS);
        assert!(all.iter().any(|n| n.to_string() == "0.0.0.0/0"), "{all:?}");
        let covered = merge(all.iter().flat_map(net_intervals).collect());
        assert_eq!(covered, vec![ALL_ADDRS]);
        for (a, b) in [("1.2.3.4", "9.8.7.6"), ("2600::1", "2600::1:5")] {
            let nets = interval_nets(iv(a, b));
            let covered = merge(nets.iter().flat_map(net_intervals).collect());
            assert_eq!(covered, vec![iv(a, b)], "{a}-{b}");
        }
    }

    fn ports(d: Dim, a: u128, b: u128) -> PacketSet {
        PacketSet::from_box(PBox::FULL.with(d, (a, b)))
    }

    #[test]
    fn subtract_then_union_restores() {
        let all = PacketSet::from_box(PBox::FULL);
        let http = ports(Dim::DstPort, 80, 80);
        let rest = all.subtract(&http);
        assert!(rest.intersect(&http).is_empty());
        assert_eq!(rest.union(&http).project(Dim::DstPort), vec![(0, 65535)]);
    }

    /// Boxes over a 4-point universe in each dimension (so every packet can be checked).
    fn small_box() -> impl proptest::strategy::Strategy<Value = PBox> {
        use proptest::prelude::*;
        proptest::collection::vec((0u128..4, 0u128..4), 5).prop_map(|ivs| {
            let mut b = PBox::FULL;
            for (k, (x, y)) in ivs.into_iter().enumerate() {
                b.0[k] = (x.min(y), x.max(y));
            }
            b
        })
    }

    fn holds(s: &PacketSet, p: [u128; 5]) -> usize {
        s.boxes()
            .iter()
            .filter(|b| (0..5).all(|k| b.0[k].0 <= p[k] && p[k] <= b.0[k].1))
            .count()
    }

    proptest::proptest! {
        /// Every packet of the universe: in `a - b` exactly when in `a` and not in `b` (the
        /// boxes of a set may overlap).
        #[test]
        fn subtract_is_set_difference(
            a in proptest::collection::vec(small_box(), 0..12),
            b in proptest::collection::vec(small_box(), 0..12),
        ) {
            let (a, b) = (PacketSet::from_boxes(a), PacketSet::from_boxes(b));
            let d = a.subtract(&b);
            for n in 0..4u128.pow(5) {
                let p = [n % 4, n / 4 % 4, n / 16 % 4, n / 64 % 4, n / 256];
                let want = holds(&a, p) > 0 && holds(&b, p) == 0;
                proptest::prop_assert_eq!(holds(&d, p) > 0, want, "{:?}", p);
            }
        }

        /// `meets` answers whether the intersection is empty, without building it.
        #[test]
        fn meets_is_a_non_empty_intersection(
            a in proptest::collection::vec(small_box(), 0..8),
            b in proptest::collection::vec(small_box(), 0..8),
        ) {
            let (a, b) = (PacketSet::from_boxes(a), PacketSet::from_boxes(b));
            proptest::prop_assert_eq!(a.meets(&b), !a.intersect(&b).is_empty());
        }
    }

    #[test]
    fn exclude_is_subtracting_the_restriction() {
        let s = PacketSet::from_boxes([
            PBox::FULL
                .with(Dim::Dst, (0, 99))
                .with(Dim::DstPort, (80, 80)),
            PBox::FULL
                .with(Dim::Dst, (50, 200))
                .with(Dim::DstPort, (443, 443)),
        ]);
        for ivs in [
            vec![(10, 20), (60, 70)],
            vec![(0, 0)],
            vec![(150, u128::MAX)],
            vec![],
        ] {
            let want = s.subtract(&s.restrict(Dim::Dst, &ivs));
            let got = s.exclude(Dim::Dst, &ivs);
            assert!(want.subtract(&got).is_empty() && got.subtract(&want).is_empty());
        }
    }

    #[test]
    fn coalesce_joins_adjacent_sources_only() {
        let a = PBox::FULL
            .with(Dim::Src, (0, 9))
            .with(Dim::DstPort, (80, 80));
        let b = a.with(Dim::Src, (10, 19));
        let c = a.with(Dim::Src, (30, 39));
        let other_port = b.with(Dim::DstPort, (443, 443));
        let s = PacketSet::from_boxes([c, b, a, other_port]).coalesce(Dim::Src);
        let mut got: Vec<_> = s
            .boxes()
            .iter()
            .map(|x| (x.get(Dim::Src), x.get(Dim::DstPort)))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ((0, 19), (80, 80)),
                ((10, 19), (443, 443)),
                ((30, 39), (80, 80))
            ]
        );
    }

    #[test]
    fn coalesce_fully_joins_what_subtraction_cut_apart() {
        // Everything minus tcp 80, plus tcp 80 again: the same packets, one box.
        let tcp80 = PBox::FULL
            .with(Dim::Proto, (6, 6))
            .with(Dim::DstPort, (80, 80));
        let mut pieces = PBox::FULL.subtract(&tcp80);
        assert!(pieces.len() > 1);
        pieces.push(tcp80);
        let s = PacketSet::from_boxes(pieces.clone());
        let joined = s.coalesce_fully();
        assert_eq!(joined.boxes(), &[PBox::FULL]);
        // A set that cannot be joined keeps its packets.
        let holes = PacketSet::from_boxes(pieces[..pieces.len() - 1].to_vec()).coalesce_fully();
        let whole = PacketSet::from_box(PBox::FULL);
        assert!(holes.intersect(&PacketSet::from_box(tcp80)).is_empty());
        assert!(whole
            .subtract(&holes)
            .subtract(&PacketSet::from_box(tcp80))
            .is_empty());
    }

    #[test]
    fn v6_prefixes_never_cover_v4() {
        let any6: IpNet = "::/0".parse().unwrap();
        for i in net_intervals(&any6) {
            assert!(intersect_interval(i, ALL_V4).is_none());
        }
        let v4: IpNet = "10.0.0.0/8".parse().unwrap();
        let iv = net_intervals(&v4)[0];
        assert_eq!(decode(iv.0), "10.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(decode(iv.1), "10.255.255.255".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn restrict_and_project() {
        let s = PacketSet::from_box(PBox::FULL)
            .restrict(Dim::DstPort, &[(22, 22), (443, 443), (80, 100)]);
        assert_eq!(
            s.project(Dim::DstPort),
            vec![(22, 22), (80, 100), (443, 443)]
        );
    }

    #[test]
    fn pack_keeps_the_boxes() {
        let s = PacketSet::from_boxes([
            PBox::FULL
                .with(Dim::Proto, (6, 6))
                .with(Dim::DstPort, (443, 443))
                .with(Dim::Src, (10, 20)),
            PBox::FULL.with(Dim::SrcPort, (1024, 65535)),
            PBox::FULL
                .with(Dim::Proto, (1, 1))
                .with(Dim::DstPort, (2048, 2303)),
        ]);
        assert_eq!(s.pack().unpack(), s);
        assert_eq!(PacketSet::empty().pack().unpack(), PacketSet::empty());
    }
}

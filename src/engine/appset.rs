//! Sets of application indices, kept as ranges.
//!
//! The all-pairs engine reports who reaches whom as "this set of applications reaches that
//! one". In real estates such sets are wide (every client of a VPC, minus a few) and the
//! caller numbers applications so that neighbours in an estate are neighbours in the
//! numbering, so ranges keep them small: the report stays proportional to the estate, not to
//! the square of it.
//!
//! The ranges are one contiguous run of bytes rather than a tree (`rangemap`): sets are built
//! once and then compared, hashed, cloned and joined many times, which contiguous bytes do in
//! one pass without chasing nodes (on estate l, sorting and merging reaches compared sets
//! millions of times). The bytes are variable-length integers, about two per range where a
//! vector of pairs took eight: measured on estate xl (one application per interface, sets of
//! tens of thousands of ranges) the peak fell from 5.9 to 3.3 GB, on l from 1.66 to 1.57 GB,
//! with the same reports and times.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

/// A set of indices (`u32`): sorted, disjoint, non-adjacent inclusive ranges, stored as
/// variable-length integers (each range as the gap after the previous one and its length).
/// One set has one representation, so equality and hashing are those of the bytes, and so
/// is the order: the integers are written so that comparing the bytes compares the ranges
/// one by one (see `put`).
///
/// Sets of sources are most of a large report's memory: with one application per interface
/// (estate xl) they hold hundreds of millions of short ranges and gaps, at about two bytes
/// each instead of eight.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppSet(Box<[u8]>);

/// Appends `v` in one to five bytes, big-endian after a prefix that says how many follow
/// (`0xxxxxxx`, `10xxxxxx x`, `110xxxxx x x`, `1110xxxx x x x`, `11110000 x x x x`), always
/// the shortest. A longer integer starts with a larger byte, and integers of one length
/// compare as their bytes: byte strings of such integers compare as the integer sequences
/// (lexicographically, a prefix first), and none is the prefix of another.
fn put(out: &mut Vec<u8>, v: u32) {
    let b = v.to_be_bytes();
    match v {
        0..=0x7f => out.push(b[3]),
        0x80..=0x3fff => out.extend_from_slice(&[0x80 | b[2], b[3]]),
        0x4000..=0x1f_ffff => out.extend_from_slice(&[0xc0 | b[1], b[2], b[3]]),
        0x20_0000..=0x0fff_ffff => out.extend_from_slice(&[0xe0 | b[0], b[1], b[2], b[3]]),
        _ => out.extend_from_slice(&[0xf0, b[0], b[1], b[2], b[3]]),
    }
}

/// The ranges of a set, in order (see [`AppSet::ranges`]).
#[derive(Clone)]
pub struct Ranges<'a> {
    bytes: &'a [u8],
    /// The end of the previous range.
    prev: Option<u32>,
}

impl Ranges<'_> {
    /// The next integer [`put`] wrote (the bytes are an [`AppSet`]'s, so well formed).
    fn take(&mut self) -> u32 {
        let first = self.bytes[0];
        if first < 0x80 {
            self.bytes = &self.bytes[1..];
            return u32::from(first);
        }
        let more = (!first).leading_zeros() as usize;
        let mut v = u32::from(first & (0x7f >> more));
        for &byte in &self.bytes[1..=more] {
            v = (v << 8) | u32::from(byte);
        }
        self.bytes = &self.bytes[more + 1..];
        v
    }
}

impl Iterator for Ranges<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        if self.bytes.is_empty() {
            return None;
        }
        let gap = self.take();
        let len = self.take();
        // Ranges are neither adjacent nor overlapping: the next one starts two past the end
        // of the previous one, or later.
        let a = match self.prev {
            None => gap,
            Some(p) => p + 2 + gap,
        };
        let b = a + len;
        self.prev = Some(b);
        Some((a, b))
    }
}

/// Builds a set from ranges given in order of their starts (overlapping or adjacent ones
/// are joined), writing each range once it is complete.
#[derive(Default)]
struct Encoder {
    out: Vec<u8>,
    /// The end of the last range written.
    prev: Option<u32>,
    /// The range being joined.
    open: Option<(u32, u32)>,
    /// An index left out.
    except: Option<u32>,
}

impl Encoder {
    /// An encoder with room for about `ranges` ranges, that leaves `except` out.
    fn new(ranges: usize, except: Option<u32>) -> Encoder {
        Encoder {
            out: Vec::with_capacity(2 * ranges + 8),
            except,
            ..Encoder::default()
        }
    }

    /// Adds the range `a..=b` (`a` no smaller than the starts added before).
    fn add(&mut self, a: u32, b: u32) {
        match &mut self.open {
            Some(open) if a <= open.1.saturating_add(1) => open.1 = open.1.max(b),
            open => {
                if let Some((x, y)) = open.replace((a, b)) {
                    self.write(x, y);
                }
            }
        }
    }

    fn write(&mut self, a: u32, b: u32) {
        if let Some(i) = self.except.filter(|i| (a..=b).contains(i)) {
            // The two sides of the index left out are ranges of their own (or nothing).
            self.except = None;
            if a < i {
                self.write(a, i - 1);
            }
            if i < b {
                self.write(i + 1, b);
            }
            return;
        }
        put(&mut self.out, self.prev.map_or(a, |p| a - p - 2));
        put(&mut self.out, b - a);
        self.prev = Some(b);
    }

    fn finish(mut self) -> AppSet {
        if let Some((a, b)) = self.open.take() {
            self.write(a, b);
        }
        AppSet(self.out.into_boxed_slice())
    }
}

impl AppSet {
    /// The empty set.
    pub fn new() -> AppSet {
        AppSet::default()
    }

    /// The set of one index.
    pub fn single(i: u32) -> AppSet {
        let mut e = Encoder::new(1, None);
        e.add(i, i);
        e.finish()
    }

    /// The set of the given indices.
    pub fn from_indices(indices: impl IntoIterator<Item = u32>) -> AppSet {
        let mut v: Vec<u32> = indices.into_iter().collect();
        let (Some(&lo), Some(&hi)) = (v.iter().min(), v.iter().max()) else {
            return AppSet::new();
        };
        // Many indices in a short span (all the senders of a range of addresses): marking
        // them in a bitmap of the span costs less than sorting them.
        if Bitmap::pays(v.len(), v.len() as u64, lo, hi) {
            let mut bits = Bitmap::new(lo, hi);
            for i in v {
                bits.fill(i, i);
            }
            return bits.ranges(None);
        }
        v.sort_unstable();
        let mut e = Encoder::new(v.len(), None);
        for i in v {
            e.add(i, i);
        }
        e.finish()
    }

    /// Adds one index.
    pub fn insert(&mut self, i: u32) {
        self.union_with(&AppSet::single(i));
    }

    /// Removes one index. Only the range that holds it and the one after it (whose gap is
    /// counted from the end before it) are written again; the bytes before and after them
    /// are copied as they are.
    pub fn remove(&mut self, i: u32) {
        let mut r = self.ranges();
        let mut prev = None;
        loop {
            let at = self.0.len() - r.bytes.len();
            let Some((a, b)) = r.next() else {
                return;
            };
            if b < i {
                prev = Some(b);
                continue;
            }
            if i < a {
                return;
            }
            let mut e = Encoder {
                out: Vec::with_capacity(self.0.len() + 10),
                prev,
                ..Encoder::default()
            };
            e.out.extend_from_slice(&self.0[..at]);
            if a < i {
                e.write(a, i - 1);
            }
            if i < b {
                e.write(i + 1, b);
            }
            if let Some((c, d)) = r.next() {
                e.write(c, d);
                e.out.extend_from_slice(r.bytes);
            }
            *self = AppSet(e.out.into_boxed_slice());
            return;
        }
    }

    /// Adds every index of `other`.
    pub fn union_with(&mut self, other: &AppSet) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            self.clone_from(other);
            return;
        }
        let mut e = Encoder::new((self.0.len() + other.0.len()) / 2, None);
        let (mut x, mut y) = (self.ranges().peekable(), other.ranges().peekable());
        loop {
            let next = match (x.peek(), y.peek()) {
                (Some(a), Some(b)) if a.0 <= b.0 => x.next(),
                (Some(_), Some(_)) => y.next(),
                (Some(_), None) => x.next(),
                (None, Some(_)) => y.next(),
                (None, None) => break,
            };
            let (a, b) = next.expect("peeked");
            e.add(a, b);
        }
        *self = e.finish();
    }

    /// The union of many sets at once: one sort of all their ranges, where joining them one
    /// by one would copy the growing result each time; or, when the ranges are many and
    /// their span short, one bitmap of the span.
    pub fn union_all<'a>(sets: impl IntoIterator<Item = &'a AppSet>) -> AppSet {
        AppSet::union_all_except(sets, None)
    }

    /// [`AppSet::union_all`] without the index `except`, if given.
    pub fn union_all_except<'a>(
        sets: impl IntoIterator<Item = &'a AppSet>,
        except: Option<u32>,
    ) -> AppSet {
        let mut all: Vec<(u32, u32)> = Vec::new();
        let (mut words, mut lo, mut hi) = (0u64, u32::MAX, 0u32);
        for s in sets {
            for r in s.ranges() {
                lo = lo.min(r.0);
                hi = hi.max(r.1);
                words += u64::from((r.1 - r.0) / 64 + 1);
                all.push(r);
            }
        }
        if all.is_empty() {
            return AppSet::new();
        }
        if Bitmap::pays(all.len(), words, lo, hi) {
            let mut bits = Bitmap::new(lo, hi);
            for (a, b) in all {
                bits.fill(a, b);
            }
            return bits.ranges(except);
        }
        all.sort_unstable();
        let mut e = Encoder::new(all.len(), except);
        for (a, b) in all {
            e.add(a, b);
        }
        e.finish()
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: u32) -> bool {
        self.ranges().find(|r| r.1 >= i).is_some_and(|r| r.0 <= i)
    }

    /// Whether the set shares an index with `other`.
    pub fn intersects(&self, other: &AppSet) -> bool {
        let (mut x, mut y) = (self.ranges(), other.ranges());
        let (mut a, mut b) = (x.next(), y.next());
        while let (Some(p), Some(q)) = (a, b) {
            if p.1 < q.0 {
                a = x.next();
            } else if q.1 < p.0 {
                b = y.next();
            } else {
                return true;
            }
        }
        false
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The index of a set of one, none otherwise.
    pub fn only(&self) -> Option<u32> {
        let mut r = self.ranges();
        match (r.next(), r.next()) {
            (Some((a, b)), None) if a == b => Some(a),
            _ => None,
        }
    }

    /// How many indices the set holds.
    pub fn len(&self) -> usize {
        self.ranges().map(|r| (r.1 - r.0) as usize + 1).sum()
    }

    /// The ranges, inclusive, in order.
    pub fn ranges(&self) -> Ranges<'_> {
        Ranges {
            bytes: &self.0,
            prev: None,
        }
    }

    /// The indices, in order.
    pub fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges().flat_map(|r| r.0..=r.1)
    }
}

/// A bitmap of the indices `lo..=hi`, for building a set from many small pieces.
struct Bitmap {
    lo: u32,
    words: Vec<u64>,
}

impl Bitmap {
    /// Whether building a set of `n` pieces (ranges or indices) spanning `lo..=hi` through a
    /// bitmap (`fill_words` word writes, then one scan of the span) costs less than sorting
    /// the pieces (about `n log n` comparisons).
    fn pays(n: usize, fill_words: u64, lo: u32, hi: u32) -> bool {
        let scan = u64::from((hi - lo) / 64 + 1);
        let sort = n as u64 * u64::from(usize::BITS - n.leading_zeros());
        n >= 16 && fill_words + scan < sort
    }

    fn new(lo: u32, hi: u32) -> Bitmap {
        Bitmap {
            lo,
            words: vec![0; ((hi - lo) / 64 + 1) as usize],
        }
    }

    /// Marks the indices `a..=b` (within the bitmap's span).
    fn fill(&mut self, a: u32, b: u32) {
        let (a, b) = (a - self.lo, b - self.lo);
        let (wa, wb) = ((a / 64) as usize, (b / 64) as usize);
        let head = !0u64 << (a % 64);
        let tail = !0u64 >> (63 - b % 64);
        if wa == wb {
            self.words[wa] |= head & tail;
            return;
        }
        self.words[wa] |= head;
        self.words[wa + 1..wb].fill(!0);
        self.words[wb] |= tail;
    }

    /// The marked indices as a set, without `except` if given.
    fn ranges(&self, except: Option<u32>) -> AppSet {
        let mut e = Encoder::new(self.words.len(), except);
        // Positions (from `lo`) as u64: a run may end at the last bit of the last word.
        let at = |pos: u64| (u64::from(self.lo) + pos) as u32;
        // The start of the run being read, if any.
        let mut open: Option<u64> = None;
        for (k, &w) in self.words.iter().enumerate() {
            let base = 64 * k as u64;
            let mut bit = 0u32;
            while bit < 64 {
                // Skip to the next change between marked and unmarked.
                let rest = w >> bit;
                let same = if open.is_some() {
                    (!rest).trailing_zeros()
                } else {
                    rest.trailing_zeros()
                };
                bit += same.min(64 - bit);
                if bit == 64 {
                    break;
                }
                match open.take() {
                    Some(start) => e.add(at(start), at(base + u64::from(bit) - 1)),
                    None => open = Some(base + u64::from(bit)),
                }
            }
        }
        if let Some(start) = open {
            e.add(at(start), at(64 * self.words.len() as u64 - 1));
        }
        e.finish()
    }
}

/// Sets by content, each allocated once: a set equal to one handed out before is handed
/// out again. The engine and the report make many equal sets (on l, the report's 123,325
/// unions of sources had 37,109 contents), so sharing them saves most of their memory.
#[derive(Default)]
pub struct Interner {
    /// The sets by their [`Interner::hash`].
    by_hash: HashMap<u64, Vec<Arc<AppSet>>, foldhash::fast::FixedState>,
}

impl Interner {
    /// The hash the interner files `set` under (it can be computed on another thread).
    pub fn hash(set: &AppSet) -> u64 {
        foldhash::fast::FixedState::default().hash_one(set)
    }

    /// The allocation equal to `set`, made if new.
    pub fn intern(&mut self, set: AppSet) -> Arc<AppSet> {
        let hash = Interner::hash(&set);
        self.intern_hashed(set, hash)
    }

    /// [`Interner::intern`], with `hash` already computed ([`Interner::hash`]).
    pub fn intern_hashed(&mut self, set: AppSet, hash: u64) -> Arc<AppSet> {
        let same = self.by_hash.entry(hash).or_default();
        if let Some(a) = same.iter().find(|a| ***a == set) {
            return a.clone();
        }
        let a = Arc::new(set);
        same.push(a.clone());
        a
    }

    /// The allocation equal to `set`, which becomes it if none is (`hash` as in
    /// [`Interner::intern_hashed`]): a set already allocated elsewhere is not copied.
    pub fn intern_shared(&mut self, set: Arc<AppSet>, hash: u64) -> Arc<AppSet> {
        let same = self.by_hash.entry(hash).or_default();
        if let Some(a) = same.iter().find(|a| ***a == *set) {
            return a.clone();
        }
        same.push(set.clone());
        set
    }
}

impl fmt::Debug for AppSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.ranges().map(|(a, b)| a..=b))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interner_hands_out_one_allocation_per_content() {
        let mut interned = Interner::default();
        let a = interned.intern(AppSet::from_indices([1, 2, 3, 9]));
        let b = AppSet::from_indices([9, 3, 2, 1]);
        let hash = Interner::hash(&b);
        let b = interned.intern_hashed(b, hash);
        let c = interned.intern(AppSet::from_indices([1, 2, 3]));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(*c, AppSet::from_indices([1, 2, 3]));
        // A set allocated elsewhere: an equal one is handed out instead; a new one is kept as
        // it is, and handed out for equal sets after it.
        let d = Arc::new(AppSet::from_indices([1, 2, 3]));
        let got = interned.intern_shared(d.clone(), Interner::hash(&d));
        assert!(Arc::ptr_eq(&got, &c));
        let e = Arc::new(AppSet::from_indices([4, 5]));
        let got = interned.intern_shared(e.clone(), Interner::hash(&e));
        assert!(Arc::ptr_eq(&got, &e));
        assert!(Arc::ptr_eq(
            &interned.intern(AppSet::from_indices([5, 4])),
            &e
        ));
    }

    #[test]
    fn ranges_merge_and_split() {
        let mut s = AppSet::from_indices([1, 2, 3, 7, 5, 6]);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(1, 3), (5, 7)]);
        assert_eq!(s.len(), 6);
        s.insert(4);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(1, 7)]);
        s.remove(5);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(1, 4), (6, 7)]);
        assert!(s.contains(6) && !s.contains(5));
        let mut t = AppSet::single(5);
        assert!(!s.intersects(&t));
        t.union_with(&s);
        assert_eq!(t.indices().collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
        assert!(t.intersects(&s));
        assert_eq!(t, AppSet::from_indices(1..=7));
        assert!(AppSet::new().is_empty());
        assert_eq!(AppSet::single(5).only(), Some(5));
        assert_eq!(AppSet::from_indices([5, 6]).only(), None);
        assert_eq!(AppSet::from_indices([5, 7]).only(), None);
        assert_eq!(AppSet::new().only(), None);
    }

    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Removing an index rewrites its range and the next one's gap; checked at every index
    /// of a set whose gaps and lengths take one to five bytes.
    #[test]
    fn removing_keeps_the_other_ranges() {
        let ranges = [
            (0, 0),
            (2, 5),
            (200, 200),
            (202, 40_000),
            (3_000_000, 3_000_001),
            (u32::MAX - 3, u32::MAX - 1),
        ];
        let indices: Vec<u32> = ranges
            .iter()
            .flat_map(|&(a, b)| [a, b, a + (b - a) / 2])
            .collect();
        let mut full = AppSet::new();
        for &(a, b) in &ranges {
            let mut e = Encoder::new(1, None);
            e.add(a, b);
            full.union_with(&e.finish());
        }
        for i in indices
            .into_iter()
            .chain([1, 6, 199, 201, 40_001, u32::MAX])
        {
            let mut fewer = full.clone();
            fewer.remove(i);
            assert_eq!(
                fewer,
                AppSet::union_all_except([&full], Some(i)),
                "removing {i}"
            );
        }
    }

    /// Sets of ranges over a span of a few hundred words, some wide.
    fn wide_set() -> impl Strategy<Value = Vec<(u32, u32)>> {
        proptest::collection::vec((0u32..20_000, 0u32..300), 0..40)
            .prop_map(|v| v.into_iter().map(|(a, len)| (a, a + len)).collect())
    }

    proptest! {
        /// Many sets joined at once (through a bitmap or by sorting, whichever is cheaper)
        /// give the union of their indices, and so does a list of indices.
        #[test]
        fn union_of_many_agrees_with_a_plain_set(
            sets in proptest::collection::vec(wide_set(), 0..60),
            offset in prop_oneof![Just(0u32), Just(u32::MAX - 20_400)],
            except in 0u32..20_400,
        ) {
            let mut model: BTreeSet<u32> = BTreeSet::new();
            let sets: Vec<AppSet> = sets
                .iter()
                .map(|ranges| {
                    let indices: Vec<u32> = ranges
                        .iter()
                        .flat_map(|&(a, b)| (a + offset)..=(b + offset))
                        .collect();
                    model.extend(indices.iter().copied());
                    AppSet::from_indices(indices)
                })
                .collect();
            let want = AppSet::from_indices(model.iter().copied());
            prop_assert_eq!(want.indices().collect::<BTreeSet<_>>(), model.clone());
            let mut one_by_one = AppSet::new();
            for s in &sets {
                one_by_one.union_with(s);
            }
            prop_assert_eq!(&one_by_one, &want);
            prop_assert_eq!(&AppSet::union_all(sets.iter()), &want);
            // Without one index (one of the set's, when there are any).
            let except = model.iter().nth(except as usize % model.len().max(1)).copied()
                .unwrap_or(except + offset);
            let mut fewer = want.clone();
            fewer.remove(except);
            prop_assert!(!fewer.contains(except));
            prop_assert_eq!(fewer.len() + usize::from(model.contains(&except)), model.len());
            prop_assert_eq!(&AppSet::union_all_except(sets.iter(), Some(except)), &fewer);
            prop_assert_eq!(&AppSet::from_indices(model.iter().rev().copied()), &want);
            // The order of the bytes is the order of the ranges, also for integers of
            // several bytes.
            let lexical = |x: &AppSet| x.ranges().collect::<Vec<_>>();
            for pair in sets.windows(2) {
                prop_assert_eq!(pair[0].cmp(&pair[1]), lexical(&pair[0]).cmp(&lexical(&pair[1])));
            }
        }
    }

    proptest! {
        /// Every operation agrees with a plain set of integers, and the representation stays
        /// canonical (so that equality and order are the sets').
        #[test]
        fn agrees_with_a_plain_set(
            a in proptest::collection::btree_set(0u32..60, 0..30),
            b in proptest::collection::btree_set(0u32..60, 0..30),
            ops in proptest::collection::vec((any::<bool>(), 0u32..60), 0..20),
        ) {
            let mut s = AppSet::from_indices(a.iter().copied());
            let mut model: BTreeSet<u32> = a.clone();
            for (add, i) in ops {
                if add {
                    s.insert(i);
                    model.insert(i);
                } else {
                    s.remove(i);
                    model.remove(&i);
                }
            }
            let t = AppSet::from_indices(b.iter().copied());
            prop_assert_eq!(s.indices().collect::<BTreeSet<_>>(), model.clone());
            prop_assert_eq!(s.len(), model.len());
            prop_assert_eq!(&s, &AppSet::from_indices(model.iter().copied()));
            prop_assert_eq!(s.intersects(&t), !model.is_disjoint(&b));
            for i in 0..60 {
                prop_assert_eq!(s.contains(i), model.contains(&i));
            }
            let mut u = s.clone();
            u.union_with(&t);
            let want: BTreeSet<u32> = model.union(&b).copied().collect();
            prop_assert_eq!(&u, &AppSet::from_indices(want.iter().copied()));
            prop_assert_eq!(&AppSet::union_all([&s, &t, &s]), &u);
            prop_assert_eq!(AppSet::union_all([]), AppSet::new());
            let lexical = |x: &AppSet| x.ranges().collect::<Vec<_>>();
            prop_assert_eq!(s.cmp(&t), lexical(&s).cmp(&lexical(&t)));
        }
    }
}

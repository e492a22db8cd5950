//! Sets of application indices, kept as ranges.
//!
//! The all-pairs engine reports who reaches whom as "this set of applications reaches that
//! one". In real estates such sets are wide (every client of a VPC, minus a few) and the
//! caller numbers applications so that neighbours in an estate are neighbours in the
//! numbering, so ranges keep them small: the report stays proportional to the estate, not to
//! the square of it.
//!
//! The ranges are a sorted vector rather than a tree (`rangemap`): sets are built once and
//! then compared, hashed, cloned and joined many times, which a contiguous vector does in one
//! pass without chasing nodes (on estate l, sorting and merging reaches compared sets
//! millions of times).

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

/// A set of indices (`u32`), stored as sorted, disjoint, non-adjacent inclusive ranges: one
/// set has one representation, so equality, order and hashing are those of the ranges.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppSet(Vec<(u32, u32)>);

impl AppSet {
    /// The empty set.
    pub fn new() -> AppSet {
        AppSet::default()
    }

    /// The set of one index.
    pub fn single(i: u32) -> AppSet {
        AppSet(vec![(i, i)])
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
            return bits.ranges();
        }
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for i in v {
            match out.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(i) => last.1 = i,
                _ => out.push((i, i)),
            }
        }
        AppSet(out)
    }

    /// Adds one index.
    pub fn insert(&mut self, i: u32) {
        self.union_with(&AppSet::single(i));
    }

    /// Removes one index.
    pub fn remove(&mut self, i: u32) {
        let k = self.0.partition_point(|r| r.1 < i);
        let Some(&(a, b)) = self.0.get(k) else {
            return;
        };
        if a > i {
            return;
        }
        match (a == i, b == i) {
            (true, true) => {
                self.0.remove(k);
            }
            (true, false) => self.0[k].0 = i + 1,
            (false, true) => self.0[k].1 = i - 1,
            (false, false) => {
                self.0[k].1 = i - 1;
                self.0.insert(k + 1, (i + 1, b));
            }
        }
    }

    /// Adds every index of `other`.
    pub fn union_with(&mut self, other: &AppSet) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut x, mut y) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (x.peek(), y.peek()) {
                (Some(a), Some(b)) if a.0 <= b.0 => x.next(),
                (Some(_), Some(_)) => y.next(),
                (Some(_), None) => x.next(),
                (None, Some(_)) => y.next(),
                (None, None) => break,
            };
            let &(a, b) = next.expect("peeked");
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        self.0 = out;
    }

    /// The union of many sets at once: one sort of all their ranges, where joining them one
    /// by one would copy the growing result each time; or, when the ranges are many and
    /// their span short, one bitmap of the span.
    pub fn union_all<'a>(sets: impl IntoIterator<Item = &'a AppSet>) -> AppSet {
        let sets: Vec<&AppSet> = sets.into_iter().collect();
        let (mut n, mut words, mut lo, mut hi) = (0usize, 0u64, u32::MAX, 0u32);
        for s in &sets {
            if let (Some(first), Some(last)) = (s.0.first(), s.0.last()) {
                n += s.0.len();
                lo = lo.min(first.0);
                hi = hi.max(last.1);
                words +=
                    s.0.iter()
                        .map(|r| u64::from((r.1 - r.0) / 64 + 1))
                        .sum::<u64>();
            }
        }
        if n == 0 {
            return AppSet::new();
        }
        if Bitmap::pays(n, words, lo, hi) {
            let mut bits = Bitmap::new(lo, hi);
            for r in sets.iter().flat_map(|s| s.0.iter()) {
                bits.fill(r.0, r.1);
            }
            return bits.ranges();
        }
        let mut all: Vec<(u32, u32)> = Vec::with_capacity(n);
        all.extend(sets.iter().flat_map(|s| s.0.iter().copied()));
        all.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(all.len());
        for (a, b) in all {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        AppSet(out)
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: u32) -> bool {
        let k = self.0.partition_point(|r| r.1 < i);
        self.0.get(k).is_some_and(|r| r.0 <= i)
    }

    /// Whether the set shares an index with `other`.
    pub fn intersects(&self, other: &AppSet) -> bool {
        let (mut i, mut j) = (0, 0);
        while let (Some(a), Some(b)) = (self.0.get(i), other.0.get(j)) {
            if a.1 < b.0 {
                i += 1;
            } else if b.1 < a.0 {
                j += 1;
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

    /// How many indices the set holds.
    pub fn len(&self) -> usize {
        self.0.iter().map(|r| (r.1 - r.0) as usize + 1).sum()
    }

    /// The ranges, inclusive, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.iter().copied()
    }

    /// The indices, in order.
    pub fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|r| r.0..=r.1)
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

    /// The marked indices as a set.
    fn ranges(&self) -> AppSet {
        let mut out: Vec<(u32, u32)> = Vec::new();
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
                    Some(start) => out.push((at(start), at(base + u64::from(bit) - 1))),
                    None => open = Some(base + u64::from(bit)),
                }
            }
        }
        if let Some(start) = open {
            out.push((at(start), at(64 * self.words.len() as u64 - 1)));
        }
        AppSet(out)
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
    }

    use proptest::prelude::*;
    use std::collections::BTreeSet;

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
            prop_assert_eq!(&AppSet::from_indices(model.iter().rev().copied()), &want);
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

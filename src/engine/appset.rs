//! Sets of application indices, kept as ranges.
//!
//! The all-pairs engine reports who reaches whom as "this set of applications reaches that
//! one". In real estates such sets are wide (every client of a VPC, minus a few) and the
//! caller numbers applications so that neighbours in an estate are neighbours in the
//! numbering, so ranges keep them small: the report stays proportional to the estate, not to
//! the square of it.

use std::fmt;
use std::hash::{Hash, Hasher};

use rangemap::RangeInclusiveSet;

/// A set of indices (`u32`), stored as disjoint inclusive ranges.
#[derive(Clone, Default)]
pub struct AppSet(RangeInclusiveSet<u32>);

impl AppSet {
    /// The empty set.
    pub fn new() -> AppSet {
        AppSet::default()
    }

    /// The set of one index.
    pub fn single(i: u32) -> AppSet {
        let mut s = AppSet::new();
        s.insert(i);
        s
    }

    /// The set of the given indices.
    pub fn from_indices(indices: impl IntoIterator<Item = u32>) -> AppSet {
        let mut s = AppSet::new();
        for i in indices {
            s.insert(i);
        }
        s
    }

    /// Adds one index.
    pub fn insert(&mut self, i: u32) {
        self.0.insert(i..=i);
    }

    /// Removes one index.
    pub fn remove(&mut self, i: u32) {
        self.0.remove(i..=i);
    }

    /// Adds every index of `other`.
    pub fn union_with(&mut self, other: &AppSet) {
        for r in other.0.iter() {
            self.0.insert(r.clone());
        }
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: u32) -> bool {
        self.0.contains(&i)
    }

    /// Whether the set shares an index with `other`.
    pub fn intersects(&self, other: &AppSet) -> bool {
        other.0.iter().any(|r| self.0.overlaps(r))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many indices the set holds.
    pub fn len(&self) -> usize {
        self.0
            .iter()
            .map(|r| (r.end() - r.start()) as usize + 1)
            .sum()
    }

    /// The ranges, inclusive, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.iter().map(|r| (*r.start(), *r.end()))
    }

    /// The indices, in order.
    pub fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|r| r.clone())
    }
}

impl PartialEq for AppSet {
    fn eq(&self, other: &AppSet) -> bool {
        self.ranges().eq(other.ranges())
    }
}

impl Eq for AppSet {}

impl PartialOrd for AppSet {
    fn partial_cmp(&self, other: &AppSet) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AppSet {
    fn cmp(&self, other: &AppSet) -> std::cmp::Ordering {
        self.ranges().cmp(other.ranges())
    }
}

impl Hash for AppSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for r in self.ranges() {
            r.hash(state);
        }
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
}

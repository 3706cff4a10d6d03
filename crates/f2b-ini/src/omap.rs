//! A small insertion-ordered map with string keys, mirroring Python's `dict`
//! (updates keep the original position, new keys go last). Small maps are searched
//! linearly; an index with a fast non-cryptographic hash is built past a threshold.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// Size from which a hash index is kept.
const INDEX_FROM: usize = 12;

/// Fx-style hash (8 bytes per step): keys are short option names, no adversary to
/// defend against.
#[derive(Default)]
struct FxLike(u64);

impl Hasher for FxLike {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
        self.0 = h;
    }
}

type Index = HashMap<String, usize, BuildHasherDefault<FxLike>>;

/// Insertion-ordered map from `String` keys to `V`.
#[derive(Debug, Clone)]
pub struct OMap<V> {
    items: Vec<(String, V)>,
    /// Built on the first lookup in a large map, then kept up to date.
    index: OnceLock<Index>,
}

impl<V: PartialEq> PartialEq for OMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<V> Default for OMap<V> {
    fn default() -> Self {
        OMap {
            items: Vec::new(),
            index: OnceLock::new(),
        }
    }
}

impl<V> OMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn pos(&self, key: &str) -> Option<usize> {
        if self.items.len() < INDEX_FROM {
            return self.items.iter().position(|(k, _)| k == key);
        }
        let ix = self.index.get_or_init(|| {
            let mut ix = Index::with_capacity_and_hasher(self.items.len() * 2, Default::default());
            for (j, (k, _)) in self.items.iter().enumerate() {
                ix.entry(k.clone()).or_insert(j);
            }
            ix
        });
        ix.get(key).copied()
    }

    /// Value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.pos(key).map(|i| &self.items[i].1)
    }

    /// Mutable value stored under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match self.pos(key) {
            Some(i) => Some(&mut self.items[i].1),
            None => None,
        }
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.pos(key).is_some()
    }

    fn push_new(&mut self, key: String, value: V) -> usize {
        let i = self.items.len();
        if let Some(ix) = self.index.get_mut() {
            ix.insert(key.clone(), i);
        }
        self.items.push((key, value));
        i
    }

    /// Inserts or replaces (keeping the old position, like a Python dict).
    pub fn insert(&mut self, key: String, value: V) {
        match self.pos(&key) {
            Some(i) => self.items[i].1 = value,
            None => {
                self.push_new(key, value);
            }
        }
    }

    /// Appends an entry whose key the caller knows to be absent (no lookup).
    pub fn push_unique(&mut self, key: String, value: V) {
        debug_assert!(!self.contains_key(&key));
        self.push_new(key, value);
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.items.iter().map(|(k, _)| k)
    }

    /// Mutable value for `key`, inserting `make()` first when absent.
    pub fn entry_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.pos(key) {
            Some(i) => i,
            None => self.push_new(key.to_string(), make()),
        };
        &mut self.items[i].1
    }
}

impl<V: Clone> OMap<V> {
    /// Python `dict.update`: every entry of `other` inserted in order.
    pub fn update(&mut self, other: &OMap<V>) {
        for (k, v) in other.iter() {
            match self.pos(k) {
                Some(i) => self.items[i].1 = v.clone(),
                None => {
                    self.push_new(k.clone(), v.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OMap;

    #[test]
    fn order_and_lookup_across_the_index_threshold() {
        let mut m = OMap::new();
        for i in 0..40 {
            m.insert(format!("k{i}"), i);
        }
        m.insert("k3".into(), 300);
        assert_eq!(m.get("k3"), Some(&300));
        assert_eq!(m.get("k39"), Some(&39));
        assert_eq!(m.keys().nth(3).map(String::as_str), Some("k3"));
        assert_eq!(m.len(), 40);
        assert!(!m.contains_key("k40"));
    }
}

//! A small insertion-ordered map with string keys, mirroring Python's `dict`
//! (updates keep the original position, new keys go last).

use std::collections::HashMap;

/// Insertion-ordered map from `String` keys to `V`.
#[derive(Debug, Clone, PartialEq)]
pub struct OMap<V> {
    items: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for OMap<V> {
    fn default() -> Self {
        OMap {
            items: Vec::new(),
            index: HashMap::new(),
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

    /// Value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.items[i].1)
    }

    /// Mutable value stored under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match self.index.get(key) {
            Some(&i) => Some(&mut self.items[i].1),
            None => None,
        }
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces (keeping the old position, like a Python dict).
    pub fn insert(&mut self, key: String, value: V) {
        match self.index.get(&key) {
            Some(&i) => self.items[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.items.len());
                self.items.push((key, value));
            }
        }
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
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.index.insert(key.to_string(), self.items.len());
                self.items.push((key.to_string(), make()));
                self.items.len() - 1
            }
        };
        &mut self.items[i].1
    }
}

impl<V: Clone> OMap<V> {
    /// Python `dict.update`: every entry of `other` inserted in order.
    pub fn update(&mut self, other: &OMap<V>) {
        for (k, v) in other.iter() {
            self.insert(k.clone(), v.clone());
        }
    }
}

//! A small insertion-ordered map with string keys, mirroring Python's `dict`
//! (updates keep the original position, new keys go last): `indexmap` with a fast
//! non-cryptographic hash (keys are short option names, no adversary to defend
//! against).

use indexmap::IndexMap;

type Map<V> = IndexMap<String, V, foldhash::fast::FixedState>;

/// Insertion-ordered map from `String` keys to `V`.
#[derive(Debug, Clone)]
pub struct OMap<V> {
    items: Map<V>,
}

impl<V: PartialEq> PartialEq for OMap<V> {
    fn eq(&self, other: &Self) -> bool {
        // ordered comparison, like the entry lists
        self.items.len() == other.items.len()
            && self
                .items
                .iter()
                .zip(other.items.iter())
                .all(|(a, b)| a == b)
    }
}

impl<V> Default for OMap<V> {
    fn default() -> Self {
        OMap {
            items: Map::default(),
        }
    }
}

impl<V> OMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        OMap {
            items: Map::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// Makes room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        self.items.reserve(n);
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
        self.items.get(key)
    }

    /// Mutable value stored under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.items.get_mut(key)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.items.contains_key(key)
    }

    /// Inserts or replaces (keeping the old position, like a Python dict).
    pub fn insert(&mut self, key: String, value: V) {
        self.items.insert(key, value);
    }

    /// Appends an entry whose key the caller knows to be absent.
    pub fn push_unique(&mut self, key: String, value: V) {
        debug_assert!(!self.contains_key(&key));
        self.items.insert(key, value);
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.items.iter()
    }

    /// Entries in insertion order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut V)> {
        self.items.iter_mut()
    }

    /// The entry at position `i` of the insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&String, &V)> {
        self.items.get_index(i)
    }

    /// The value at position `i` of the insertion order, mutable.
    pub fn get_index_mut(&mut self, i: usize) -> Option<&mut V> {
        self.items.get_index_mut(i).map(|(_, v)| v)
    }

    /// The entries in insertion order, by value.
    pub fn into_entries(self) -> impl Iterator<Item = (String, V)> {
        self.items.into_iter()
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.items.keys()
    }

    /// Mutable value for `key`, inserting `make()` first when absent.
    pub fn entry_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        if let Some(i) = self.items.get_index_of(key) {
            return &mut self.items[i];
        }
        self.items.entry(key.to_string()).or_insert_with(make)
    }
}

impl<V: Clone> OMap<V> {
    /// Python `dict.update`: every entry of `other` inserted in order.
    pub fn update(&mut self, other: &OMap<V>) {
        for (k, v) in other.iter() {
            match self.items.get_mut(k.as_str()) {
                Some(slot) => *slot = v.clone(),
                None => {
                    self.items.insert(k.clone(), v.clone());
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

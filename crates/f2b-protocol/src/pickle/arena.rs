//! The object arena: nodes under construction, Python's key equality for dicts and
//! sets, and the final copy into a [`Value`] tree under the depth and size budget.

use super::decode::Machine;
use super::error::{limit, malformed, DecodeError};
use super::text::os_error_subclass;
use crate::value::Value;
use std::collections::{HashMap, HashSet};

/// An object under construction; children are arena indices.
pub(super) enum Node {
    Leaf(Value),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>, HashMap<Vec<u8>, usize>),
    Set(Vec<usize>, HashSet<Vec<u8>>),
    FrozenSet(Vec<usize>),
    Global(String, String),
    Exception(String, String, usize),
}

impl Node {
    pub(super) fn type_name(&self) -> &str {
        match self {
            Node::Leaf(v) => v.type_name(),
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(..) => "dict",
            Node::Set(..) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(..) => "type",
            Node::Exception(_, c, _) => c,
        }
    }
}

pub(super) struct Budget {
    pub(super) values: usize,
    pub(super) bytes: usize,
}

impl Budget {
    /// Counts one leaf value and its payload bytes.
    fn charge(&mut self, v: &Value) -> Result<(), DecodeError> {
        let size = match v {
            Value::Str(s) => s.len(),
            Value::Bytes(x) | Value::ByteArray(x) => x.len(),
            Value::BigInt(s) => s.len(),
            _ => 0,
        };
        self.values = self
            .values
            .checked_sub(1)
            .ok_or_else(|| limit("too many values"))?;
        self.bytes = self
            .bytes
            .checked_sub(size)
            .ok_or_else(|| limit("decoded data too large"))?;
        Ok(())
    }
}

/// The unpickler's memo: dense keys (what picklers produce) in a vector, anything
/// else in a map.
#[derive(Default)]
pub(super) struct Memo {
    dense: Vec<usize>,
    sparse: HashMap<u64, usize>,
    pub(super) len: usize,
}

const EMPTY: usize = usize::MAX;

impl Memo {
    pub(super) fn get(&self, key: u64) -> Option<usize> {
        match self.dense.get(key as usize) {
            Some(&n) if n != EMPTY => Some(n),
            Some(_) => None,
            None => self.sparse.get(&key).copied(),
        }
    }

    pub(super) fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn insert(&mut self, key: u64, node: usize) {
        if !self.contains(key) {
            self.len += 1;
        }
        let k = key as usize;
        if k < self.dense.len() {
            self.dense[k] = node;
        } else if k == self.dense.len() && !self.sparse.contains_key(&key) {
            self.dense.push(node);
        } else {
            self.sparse.insert(key, node);
        }
    }
}

impl Machine<'_> {
    /// A byte string equal for exactly the keys Python considers equal (hashable only).
    pub(super) fn hash_sig(&self, n: usize, depth: usize) -> Result<Vec<u8>, DecodeError> {
        if depth > self.limits.max_depth {
            return Err(limit("maximum nesting depth exceeded"));
        }
        let mut out = Vec::new();
        match &self.nodes[n] {
            Node::Leaf(v) => match v {
                Value::None => out.push(b'N'),
                Value::Bool(b) => out.extend(format!("i{}", *b as i64).bytes()),
                Value::Int(i) => out.extend(format!("i{i}").bytes()),
                Value::BigInt(s) => out.extend(format!("i{s}").bytes()),
                Value::Float(f) if f.fract() == 0.0 && f.is_finite() => {
                    out.extend(format!("i{f:.0}").bytes());
                    if *f == 0.0 {
                        out = b"i0".to_vec();
                    }
                }
                Value::Float(f) => out.extend(format!("f{}", f.to_bits()).bytes()),
                Value::Str(s) => {
                    out.extend(format!("s{}:", s.len()).bytes());
                    out.extend(s.bytes());
                }
                Value::Bytes(b) => {
                    out.extend(format!("b{}:", b.len()).bytes());
                    out.extend(b);
                }
                other => {
                    return Err(malformed(format!(
                        "unhashable type: '{}'",
                        other.type_name()
                    )))
                }
            },
            Node::Tuple(items) => {
                out.extend(format!("t{}(", items.len()).bytes());
                for &i in items {
                    let s = self.hash_sig(i, depth + 1)?;
                    out.extend(format!("{}:", s.len()).bytes());
                    out.extend(s);
                }
            }
            Node::FrozenSet(items) => {
                let mut sigs = items
                    .iter()
                    .map(|&i| self.hash_sig(i, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                sigs.sort();
                out.extend(format!("z{}(", sigs.len()).bytes());
                for s in sigs {
                    out.extend(format!("{}:", s.len()).bytes());
                    out.extend(s);
                }
            }
            Node::Global(m, c) => out.extend(format!("g{m}.{c}").bytes()),
            other => {
                return Err(malformed(format!(
                    "unhashable type: '{}'",
                    other.type_name()
                )))
            }
        }
        Ok(out)
    }

    /// How many references each node has (container children, exception args, root).
    pub(super) fn use_counts(&self, root: usize) -> Vec<u32> {
        let mut uses = vec![0u32; self.nodes.len()];
        uses[root] += 1;
        for node in &self.nodes {
            let mut add = |i: usize| uses[i] = uses[i].saturating_add(1);
            match node {
                Node::List(v) | Node::Tuple(v) | Node::Set(v, _) | Node::FrozenSet(v) => {
                    v.iter().for_each(|&i| add(i))
                }
                Node::Dict(v, _) => v.iter().for_each(|&(k, x)| {
                    add(k);
                    add(x)
                }),
                Node::Exception(_, _, a) => add(*a),
                Node::Leaf(_) | Node::Global(..) => {}
            }
        }
        uses
    }

    /// A copy of a node's content without its hashing indexes.
    pub(super) fn detach(&self, n: usize) -> Node {
        match &self.nodes[n] {
            Node::Leaf(v) => Node::Leaf(v.clone()),
            Node::List(v) => Node::List(v.clone()),
            Node::Tuple(v) => Node::Tuple(v.clone()),
            Node::Dict(v, _) => Node::Dict(v.clone(), HashMap::new()),
            Node::Set(v, _) => Node::Set(v.clone(), HashSet::new()),
            Node::FrozenSet(v) => Node::FrozenSet(v.clone()),
            Node::Global(m, c) => Node::Global(m.clone(), c.clone()),
            Node::Exception(m, c, a) => Node::Exception(m.clone(), c.clone(), *a),
        }
    }

    /// Builds the `Value` of node `n`. Nodes reached only through single references
    /// are moved out of the arena; anything below a shared node is copied.
    pub(super) fn materialize(
        &mut self,
        n: usize,
        depth: usize,
        b: &mut Budget,
        uses: &[u32],
        shared: bool,
    ) -> Result<Value, DecodeError> {
        if depth > self.limits.max_depth {
            return Err(limit("maximum nesting depth exceeded"));
        }
        b.values = b
            .values
            .checked_sub(1)
            .ok_or_else(|| limit("too many values"))?;
        let shared = shared || uses[n] > 1;
        let node = if shared {
            self.detach(n)
        } else {
            std::mem::replace(&mut self.nodes[n], Node::Leaf(Value::None))
        };
        let seq = |m: &mut Self, items: Vec<usize>, b: &mut Budget| {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                // Fast path: a leaf used once is moved without recursing.
                if !shared && uses[i] == 1 && matches!(m.nodes[i], Node::Leaf(_)) {
                    if let Node::Leaf(v) =
                        std::mem::replace(&mut m.nodes[i], Node::Leaf(Value::None))
                    {
                        b.charge(&v)?;
                        out.push(v);
                    }
                    continue;
                }
                out.push(m.materialize(i, depth + 1, b, uses, shared)?);
            }
            Ok::<Vec<Value>, DecodeError>(out)
        };
        Ok(match node {
            Node::Leaf(v) => {
                // `charge` counts one value; this one was already counted above.
                b.values += 1;
                b.charge(&v)?;
                v
            }
            Node::List(items) => Value::List(seq(self, items, b)?),
            Node::Tuple(items) => Value::Tuple(seq(self, items, b)?),
            Node::Set(items, _) => Value::Set(seq(self, items, b)?),
            Node::FrozenSet(items) => Value::FrozenSet(seq(self, items, b)?),
            Node::Dict(items, _) => {
                let mut out = Vec::with_capacity(items.len());
                for (k, v) in items {
                    out.push((
                        self.materialize(k, depth + 1, b, uses, shared)?,
                        self.materialize(v, depth + 1, b, uses, shared)?,
                    ));
                }
                Value::Dict(out)
            }
            Node::Global(m, c) => {
                return Err(malformed(format!("unexpected class {m}.{c} in reply")))
            }
            Node::Exception(m, c, args) => {
                let Value::Tuple(args) = self.materialize(args, depth + 1, b, uses, shared)? else {
                    return Err(malformed("exception arguments must be a tuple"));
                };
                // Calling OSError(errno, ...) gives the errno's subclass, as unpickling
                // in Python would.
                let class = match (m.as_str(), c.as_str(), args.first()) {
                    ("builtins", "OSError", Some(Value::Int(errno))) if args.len() >= 2 => {
                        os_error_subclass(*errno).map_or(c, str::to_string)
                    }
                    _ => c,
                };
                Value::Exception {
                    module: m,
                    class,
                    args,
                }
            }
        })
    }
}

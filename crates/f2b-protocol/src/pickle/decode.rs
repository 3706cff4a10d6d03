//! A bounded pickle decoder (protocols 0-5) that builds plain [`Value`]s and never
//! imports or calls anything.
//!
//! Objects are first built in an arena (so memo references and later `APPENDS` /
//! `SETITEMS` on a memoized container behave as in Python), then copied out into a
//! `Value` tree under a depth and size budget (so shared references cannot blow up).

use super::arena::{Budget, Memo, Node};
use super::error::{limit, malformed, truncated, DecodeError, DecodeErrorKind};
use super::op;
use super::text::{ascii, parse_py_float, py2_string, raw_unicode_escape, utf8};
use crate::value::Value;
use std::collections::{HashMap, HashSet};

/// What kind of peer produced the pickle, i.e. how much of pickle is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeMode {
    /// A client's request (server side): plain data only; every opcode that names a
    /// global, calls or builds an object is refused.
    Request,
    /// A server's reply (client side): additionally accepts `builtins.str(x)` and
    /// `module.Class(*args)` (an exception instance) built with GLOBAL/STACK_GLOBAL +
    /// REDUCE (+ BUILD), exactly the shapes fail2ban's server produces. Nothing is
    /// ever called: the class is recorded as [`Value::Exception`]. Never enable this
    /// on the server side.
    Reply,
}

/// Resource bounds applied while decoding.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum nesting depth of the resulting value.
    pub max_depth: usize,
    /// Maximum number of memo entries.
    pub max_memo: usize,
    /// Maximum number of values in the result (shared references count each time).
    pub max_values: usize,
    /// Maximum total bytes of strings/bytes in the result (shared ones count each time).
    pub max_bytes: usize,
    /// Maximum byte length of an arbitrary-precision integer (LONG1/LONG4/text forms).
    pub max_long_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 100,
            max_memo: 1 << 20,
            max_values: 4 << 20,
            max_bytes: 64 << 20,
            max_long_bytes: 4096,
        }
    }
}

/// Decodes one pickle from `data` with default [`Limits`]. Bytes after STOP are
/// ignored, as Python's `pickle.loads` does.
pub fn decode(data: &[u8], mode: DecodeMode) -> Result<Value, DecodeError> {
    decode_with_limits(data, mode, &Limits::default())
}

/// Decodes one pickle from `data` with explicit limits.
pub fn decode_with_limits(
    data: &[u8],
    mode: DecodeMode,
    limits: &Limits,
) -> Result<Value, DecodeError> {
    let mut m = Machine {
        data,
        pos: 0,
        mode,
        limits,
        nodes: Vec::with_capacity((data.len() / 8).min(1 << 20)),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
    };
    let root = m.run()?;
    let mut budget = Budget {
        values: limits.max_values,
        bytes: limits.max_bytes,
    };
    let uses = m.use_counts(root);
    m.materialize(root, 0, &mut budget, &uses, false)
}

pub(super) struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    mode: DecodeMode,
    pub(super) limits: &'a Limits,
    pub(super) nodes: Vec<Node>,
    stack: Vec<usize>,
    marks: Vec<usize>,
    memo: Memo,
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let s = self.data.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64))
    }

    fn len_arg(&mut self, n: usize) -> Result<usize, DecodeError> {
        let len = self.uint(n)?;
        // Anything longer than the remaining input is truncated by definition.
        if len > (self.data.len() - self.pos) as u64 {
            return Err(truncated());
        }
        Ok(len as usize)
    }

    fn line(&mut self) -> Result<&'a [u8], DecodeError> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(truncated)?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn push_node(&mut self, n: Node) {
        self.nodes.push(n);
        self.stack.push(self.nodes.len() - 1);
    }

    fn push(&mut self, v: Value) {
        self.push_node(Node::Leaf(v));
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn underflow(&self) -> DecodeError {
        if self.marks.is_empty() {
            malformed("unpickling stack underflow")
        } else {
            malformed("unexpected MARK found")
        }
    }

    fn pop(&mut self) -> Result<usize, DecodeError> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().unwrap_or_default())
    }

    fn top(&self) -> Result<usize, DecodeError> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(*self.stack.last().unwrap_or(&0))
    }

    /// Pops everything above the last MARK.
    fn pop_mark(&mut self) -> Result<Vec<usize>, DecodeError> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| malformed("could not find MARK"))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn memo_put(&mut self, key: u64) -> Result<(), DecodeError> {
        let top = self.top()?;
        if self.memo.len >= self.limits.max_memo && !self.memo.contains(key) {
            return Err(limit("memo size limit exceeded"));
        }
        self.memo.insert(key, top);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), DecodeError> {
        let n = self
            .memo
            .get(key)
            .ok_or_else(|| malformed(format!("Memo value not found at index {key}")))?;
        self.stack.push(n);
        Ok(())
    }

    fn forbid(&self, what: &str) -> DecodeError {
        DecodeError::new(
            DecodeErrorKind::Forbidden,
            format!("forbidden pickle opcode {what}"),
        )
    }

    fn run(&mut self) -> Result<usize, DecodeError> {
        if self.data.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::Eof, "Ran out of input"));
        }
        loop {
            let Some(&code) = self.data.get(self.pos) else {
                return Err(DecodeError::new(DecodeErrorKind::Eof, "Ran out of input"));
            };
            self.pos += 1;
            match code {
                op::PROTO => {
                    let p = self.uint(1)?;
                    if p > 5 {
                        return Err(DecodeError::new(
                            DecodeErrorKind::InvalidOpcode,
                            format!("unsupported pickle protocol: {p}"),
                        ));
                    }
                }
                op::FRAME => {
                    self.len_arg(8)?;
                }
                op::STOP => return self.pop(),
                op::MARK => self.marks.push(self.stack.len()),
                op::POP => {
                    if self.stack.len() > self.fence() {
                        self.stack.pop();
                    } else if self.marks.pop().is_none() {
                        return Err(malformed("unpickling stack underflow"));
                    }
                }
                op::POP_MARK => {
                    self.pop_mark()?;
                }
                op::DUP => {
                    let t = self.top()?;
                    self.stack.push(t);
                }
                op::NONE => self.push(Value::None),
                op::NEWTRUE => self.push(Value::Bool(true)),
                op::NEWFALSE => self.push(Value::Bool(false)),
                op::BININT => {
                    let v = self.uint(4)? as u32 as i32;
                    self.push(Value::Int(v.into()));
                }
                op::BININT1 => {
                    let v = self.uint(1)?;
                    self.push(Value::Int(v as i64));
                }
                op::BININT2 => {
                    let v = self.uint(2)?;
                    self.push(Value::Int(v as i64));
                }
                op::LONG1 | op::LONG4 => {
                    let n = self.len_arg(if code == op::LONG1 { 1 } else { 4 })?;
                    if n > self.limits.max_long_bytes {
                        return Err(limit("integer too large"));
                    }
                    let b = self.take(n)?;
                    self.push(super::long::from_le_twos(b));
                }
                op::INT => {
                    let l = self.line()?;
                    let v = match l {
                        b"00" => Value::Bool(false),
                        b"01" => Value::Bool(true),
                        _ => self.text_int(l)?,
                    };
                    self.push(v);
                }
                op::LONG => {
                    let l = self.line()?;
                    let l = l.strip_suffix(b"L").unwrap_or(l);
                    let v = self.text_int(l)?;
                    self.push(v);
                }
                op::FLOAT => {
                    let l = self.line()?;
                    let s = std::str::from_utf8(l)
                        .map_err(|_| malformed("could not convert string to float"))?;
                    let f = parse_py_float(s.trim()).ok_or_else(|| {
                        malformed(format!(
                            "could not convert string to float: {}",
                            crate::value::repr_str(s)
                        ))
                    })?;
                    self.push(Value::Float(f));
                }
                op::BINFLOAT => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(Value::Float(f64::from_be_bytes(a)));
                }
                op::SHORT_BINUNICODE | op::BINUNICODE | op::BINUNICODE8 => {
                    let w = match code {
                        op::SHORT_BINUNICODE => 1,
                        op::BINUNICODE => 4,
                        _ => 8,
                    };
                    let n = self.len_arg(w)?;
                    let b = self.take(n)?;
                    let s = utf8(b)?;
                    self.push(Value::Str(s));
                }
                op::UNICODE => {
                    let l = self.line()?;
                    let s = raw_unicode_escape(l)?;
                    self.push(Value::Str(s));
                }
                op::SHORT_BINBYTES | op::BINBYTES | op::BINBYTES8 | op::BYTEARRAY8 => {
                    let w = match code {
                        op::SHORT_BINBYTES => 1,
                        op::BINBYTES => 4,
                        _ => 8,
                    };
                    let n = self.len_arg(w)?;
                    let b = self.take(n)?.to_vec();
                    self.push(if code == op::BYTEARRAY8 {
                        Value::ByteArray(b)
                    } else {
                        Value::Bytes(b)
                    });
                }
                op::SHORT_BINSTRING | op::BINSTRING => {
                    let n = self.len_arg(if code == op::SHORT_BINSTRING { 1 } else { 4 })?;
                    let b = self.take(n)?;
                    let s = ascii(b)?;
                    self.push(Value::Str(s));
                }
                op::STRING => {
                    let l = self.line()?;
                    let s = py2_string(l)?;
                    self.push(Value::Str(s));
                }
                op::EMPTY_LIST => self.push_node(Node::List(Vec::new())),
                op::EMPTY_TUPLE => self.push_node(Node::Tuple(Vec::new())),
                op::EMPTY_DICT => self.push_node(Node::Dict(Vec::new(), HashMap::new())),
                op::EMPTY_SET => self.push_node(Node::Set(Vec::new(), HashSet::new())),
                op::LIST => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::List(items));
                }
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Tuple(items));
                }
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = (code - op::TUPLE1 + 1) as usize;
                    if self.stack.len() < self.fence() + n {
                        return Err(self.underflow());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push_node(Node::Tuple(items));
                }
                op::DICT => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Dict(Vec::new(), HashMap::new()));
                    let d = self.nodes.len() - 1;
                    self.set_items(d, &items)?;
                }
                op::FROZENSET => {
                    let items = self.pop_mark()?;
                    let mut seen = HashSet::new();
                    let mut out = Vec::new();
                    for i in items {
                        if seen.insert(self.hash_sig(i, 0)?) {
                            out.push(i);
                        }
                    }
                    self.push_node(Node::FrozenSet(out));
                }
                op::APPEND => {
                    let v = self.pop()?;
                    let l = self.top()?;
                    self.append(l, &[v])?;
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    let l = self.top()?;
                    self.append(l, &items)?;
                }
                op::SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let d = self.top()?;
                    self.set_items(d, &[k, v])?;
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    let d = self.top()?;
                    self.set_items(d, &items)?;
                }
                op::ADDITEMS => {
                    let items = self.pop_mark()?;
                    let s = self.top()?;
                    self.add_items(s, &items)?;
                }
                op::MEMOIZE => {
                    let k = self.memo.len as u64;
                    self.memo_put(k)?;
                }
                op::BINPUT => {
                    let k = self.uint(1)?;
                    self.memo_put(k)?;
                }
                op::LONG_BINPUT => {
                    let k = self.uint(4)?;
                    self.memo_put(k)?;
                }
                op::PUT => {
                    let k = self.text_index()?;
                    self.memo_put(k)?;
                }
                op::BINGET => {
                    let k = self.uint(1)?;
                    self.memo_get(k)?;
                }
                op::LONG_BINGET => {
                    let k = self.uint(4)?;
                    self.memo_get(k)?;
                }
                op::GET => {
                    let k = self.text_index()?;
                    self.memo_get(k)?;
                }
                op::GLOBAL | op::STACK_GLOBAL | op::REDUCE | op::BUILD
                    if self.mode == DecodeMode::Reply =>
                {
                    self.reply_op(code)?
                }
                op::GLOBAL => return Err(self.forbid("GLOBAL")),
                op::STACK_GLOBAL => return Err(self.forbid("STACK_GLOBAL")),
                op::REDUCE => return Err(self.forbid("REDUCE")),
                op::BUILD => return Err(self.forbid("BUILD")),
                op::INST => return Err(self.forbid("INST")),
                op::OBJ => return Err(self.forbid("OBJ")),
                op::NEWOBJ => return Err(self.forbid("NEWOBJ")),
                op::NEWOBJ_EX => return Err(self.forbid("NEWOBJ_EX")),
                op::EXT1 | op::EXT2 | op::EXT4 => return Err(self.forbid("EXT")),
                op::PERSID => return Err(self.forbid("PERSID")),
                op::BINPERSID => return Err(self.forbid("BINPERSID")),
                op::NEXT_BUFFER | op::READONLY_BUFFER => return Err(DecodeError::new(
                    DecodeErrorKind::Forbidden,
                    "pickle stream refers to out-of-band data but no *buffers* argument was given",
                )),
                other => {
                    let shown = if (0x20..0x7f).contains(&other) && other != b'\'' && other != b'\\'
                    {
                        (other as char).to_string()
                    } else {
                        format!("\\x{other:02x}")
                    };
                    return Err(DecodeError::new(
                        DecodeErrorKind::InvalidOpcode,
                        format!("invalid load key, '{shown}'."),
                    ));
                }
            }
        }
    }

    fn text_int(&self, l: &[u8]) -> Result<Value, DecodeError> {
        if l.len() > self.limits.max_long_bytes * 3 {
            return Err(limit("integer too large"));
        }
        let s = std::str::from_utf8(l).unwrap_or("");
        super::long::parse_decimal(s.trim()).ok_or_else(|| {
            malformed(format!(
                "invalid literal for int() with base 10: {}",
                crate::value::repr_bytes(l).trim_start_matches('b')
            ))
        })
    }

    fn text_index(&mut self) -> Result<u64, DecodeError> {
        let l = self.line()?;
        std::str::from_utf8(l)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| malformed("invalid memo key"))
    }

    fn append(&mut self, list: usize, items: &[usize]) -> Result<(), DecodeError> {
        match &mut self.nodes[list] {
            Node::List(v) => {
                v.extend_from_slice(items);
                Ok(())
            }
            other => Err(malformed(format!(
                "'{}' object has no attribute 'append'",
                other.type_name()
            ))),
        }
    }

    fn set_items(&mut self, dict: usize, items: &[usize]) -> Result<(), DecodeError> {
        if !matches!(self.nodes[dict], Node::Dict(..)) {
            return Err(malformed(format!(
                "'{}' object does not support item assignment",
                self.nodes[dict].type_name()
            )));
        }
        if items.len() % 2 == 1 {
            return Err(malformed("odd number of items for SETITEMS"));
        }
        for kv in items.chunks(2) {
            let sig = self.hash_sig(kv[0], 0)?;
            if let Node::Dict(entries, index) = &mut self.nodes[dict] {
                match index.get(&sig) {
                    // Python keeps the first key object and its position, replaces the value.
                    Some(&i) => entries[i].1 = kv[1],
                    None => {
                        index.insert(sig, entries.len());
                        entries.push((kv[0], kv[1]));
                    }
                }
            }
        }
        Ok(())
    }

    fn add_items(&mut self, set: usize, items: &[usize]) -> Result<(), DecodeError> {
        if !matches!(self.nodes[set], Node::Set(..)) {
            return Err(malformed(format!(
                "'{}' object has no attribute 'add'",
                self.nodes[set].type_name()
            )));
        }
        for &i in items {
            let sig = self.hash_sig(i, 0)?;
            if let Node::Set(v, seen) = &mut self.nodes[set] {
                if seen.insert(sig) {
                    v.push(i);
                }
            }
        }
        Ok(())
    }

    /// GLOBAL / STACK_GLOBAL / REDUCE / BUILD, accepted only when decoding replies.
    fn reply_op(&mut self, code: u8) -> Result<(), DecodeError> {
        match code {
            op::GLOBAL => {
                let m = ascii(self.line()?)?;
                let c = ascii(self.line()?)?;
                self.push_global(m, c)
            }
            op::STACK_GLOBAL => {
                let c = self.pop()?;
                let m = self.pop()?;
                match (&self.nodes[m], &self.nodes[c]) {
                    (Node::Leaf(Value::Str(m)), Node::Leaf(Value::Str(c))) => {
                        let (m, c) = (m.clone(), c.clone());
                        self.push_global(m, c)
                    }
                    _ => Err(malformed("STACK_GLOBAL requires str")),
                }
            }
            op::REDUCE => {
                let args = self.pop()?;
                let func = self.pop()?;
                let Node::Tuple(items) = &self.nodes[args] else {
                    return Err(malformed("REDUCE arguments must be a tuple"));
                };
                let Node::Global(m, c) = &self.nodes[func] else {
                    return Err(malformed("REDUCE of a non-class"));
                };
                if (m == "builtins" || m == "__builtin__") && c == "str" {
                    // fail2ban's IPAddr pickles as str(<text>).
                    return match items.as_slice() {
                        [one] => match &self.nodes[*one] {
                            Node::Leaf(Value::Str(s)) => {
                                let s = s.clone();
                                self.push(Value::Str(s));
                                Ok(())
                            }
                            _ => Err(malformed("str() of a non-str in reply")),
                        },
                        [] => {
                            self.push(Value::Str(String::new()));
                            Ok(())
                        }
                        _ => Err(malformed("str() with several arguments in reply")),
                    };
                }
                let (m, c) = (m.clone(), c.clone());
                self.push_node(Node::Exception(m, c, args));
                Ok(())
            }
            _ => {
                // BUILD: exception state (its __dict__) is irrelevant to the client.
                let _state = self.pop()?;
                match self.nodes[self.top()?] {
                    Node::Exception(..) => Ok(()),
                    _ => Err(self.forbid("BUILD")),
                }
            }
        }
    }

    fn push_global(&mut self, m: String, c: String) -> Result<(), DecodeError> {
        let ident = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|p| {
                    !p.is_empty() && p.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                })
        };
        if !ident(&m) || !ident(&c) {
            return Err(malformed("invalid global name in reply"));
        }
        self.push_node(Node::Global(m, c));
        Ok(())
    }
}

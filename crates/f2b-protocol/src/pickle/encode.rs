//! The pickle encoder: protocol 5 with protocol-4 framing, producing the bytes
//! CPython's `pickle.dumps(obj, HIGHEST_PROTOCOL)` produces for the same value when
//! no object is shared (we never emit memo GETs; every memoizable object is
//! MEMOIZEd as CPython does, so the opcodes line up).

use super::long;
use super::op;
use crate::value::Value;

/// Frames are cut at object boundaries once they reach this size (CPython's target).
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// Frames smaller than this get no FRAME header.
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER: usize = 9;
/// Items per MARK ... APPENDS/SETITEMS/ADDITEMS batch.
const BATCH: usize = 1000;

/// Encodes `value` as `pickle.dumps(value, 5)` would.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut e = Encoder {
        out: Vec::new(),
        frame_start: None,
        framing: false,
    };
    e.write(&[op::PROTO, 5]);
    e.framing = true;
    e.save(value);
    e.write(&[op::STOP]);
    e.commit_frame();
    e.out
}

/// Encodes the reply `(0, result)` of a successful command.
pub fn encode_ok(result: &Value) -> Vec<u8> {
    encode(&Value::Tuple(vec![Value::Int(0), result.clone()]))
}

/// Encodes the reply `(1, exception)` of a failed command.
pub fn encode_err(exception: &Value) -> Vec<u8> {
    encode(&Value::Tuple(vec![Value::Int(1), exception.clone()]))
}

struct Encoder {
    out: Vec<u8>,
    frame_start: Option<usize>,
    framing: bool,
}

impl Encoder {
    fn write(&mut self, b: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend_from_slice(&[0; FRAME_HEADER]);
        }
        self.out.extend_from_slice(b);
    }

    fn commit_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = op::FRAME;
            self.out[start + 1..start + FRAME_HEADER].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER);
        }
    }

    fn boundary(&mut self) {
        if let Some(start) = self.frame_start {
            if self.out.len() - start - FRAME_HEADER >= FRAME_SIZE_TARGET {
                self.commit_frame();
            }
        }
    }

    /// Header + payload; a payload of at least a frame's size goes outside any frame.
    fn write_bytes(&mut self, header: &[u8], data: &[u8]) {
        if data.len() >= FRAME_SIZE_TARGET {
            self.commit_frame();
            let framing = self.framing;
            self.framing = false;
            self.write(header);
            self.write(data);
            self.framing = framing;
        } else {
            self.write(header);
            self.write(data);
        }
    }

    fn memoize(&mut self) {
        self.write(&[op::MEMOIZE]);
    }

    fn sized(&mut self, short: u8, long4: u8, long8: u8, data: &[u8]) {
        let n = data.len();
        let mut header = Vec::with_capacity(9);
        if n < 256 {
            header.extend_from_slice(&[short, n as u8]);
        } else if n <= u32::MAX as usize {
            header.push(long4);
            header.extend_from_slice(&(n as u32).to_le_bytes());
        } else {
            header.push(long8);
            header.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.write_bytes(&header, data);
    }

    fn save_str(&mut self, s: &str) {
        self.sized(
            op::SHORT_BINUNICODE,
            op::BINUNICODE,
            op::BINUNICODE8,
            s.as_bytes(),
        );
        self.memoize();
    }

    fn save_int(&mut self, i: i64) {
        if (0..=0xff).contains(&i) {
            self.write(&[op::BININT1, i as u8]);
        } else if (0..=0xffff).contains(&i) {
            let b = (i as u16).to_le_bytes();
            self.write(&[op::BININT2, b[0], b[1]]);
        } else if i32::try_from(i).is_ok() {
            let b = (i as i32).to_le_bytes();
            self.write(&[op::BININT, b[0], b[1], b[2], b[3]]);
        } else {
            self.save_long(&long::to_le_twos_i64(i));
        }
    }

    fn save_long(&mut self, b: &[u8]) {
        if b.len() < 256 {
            self.write(&[op::LONG1, b.len() as u8]);
        } else {
            let mut h = vec![op::LONG4];
            h.extend_from_slice(&(b.len() as u32).to_le_bytes());
            self.write(&h);
        }
        self.write(b);
    }

    fn batched(&mut self, items: &[Value], single: Option<u8>, many: u8) {
        for chunk in items.chunks(BATCH) {
            match (chunk.len(), single) {
                (1, Some(one)) => {
                    self.save(&chunk[0]);
                    self.write(&[one]);
                }
                _ => {
                    self.write(&[op::MARK]);
                    for v in chunk {
                        self.save(v);
                    }
                    self.write(&[many]);
                }
            }
        }
    }

    fn save(&mut self, v: &Value) {
        match v {
            Value::None => self.write(&[op::NONE]),
            Value::Bool(true) => self.write(&[op::NEWTRUE]),
            Value::Bool(false) => self.write(&[op::NEWFALSE]),
            Value::Int(i) => self.save_int(*i),
            Value::BigInt(s) => self.save_long(&long::to_le_twos_decimal(s)),
            Value::Float(f) => {
                let mut b = vec![op::BINFLOAT];
                b.extend_from_slice(&f.to_be_bytes());
                self.write(&b);
            }
            Value::Str(s) => self.save_str(s),
            Value::Bytes(b) => {
                self.sized(op::SHORT_BINBYTES, op::BINBYTES, op::BINBYTES8, b);
                self.memoize();
            }
            Value::ByteArray(b) => {
                let mut h = vec![op::BYTEARRAY8];
                h.extend_from_slice(&(b.len() as u64).to_le_bytes());
                self.write_bytes(&h, b);
                self.memoize();
            }
            Value::Tuple(items) => self.save_tuple(items),
            Value::List(items) => {
                self.write(&[op::EMPTY_LIST]);
                self.memoize();
                self.batched(items, Some(op::APPEND), op::APPENDS);
            }
            Value::Dict(items) => {
                self.write(&[op::EMPTY_DICT]);
                self.memoize();
                for chunk in items.chunks(BATCH) {
                    if chunk.len() == 1 {
                        self.save(&chunk[0].0);
                        self.save(&chunk[0].1);
                        self.write(&[op::SETITEM]);
                    } else {
                        self.write(&[op::MARK]);
                        for (k, x) in chunk {
                            self.save(k);
                            self.save(x);
                        }
                        self.write(&[op::SETITEMS]);
                    }
                }
            }
            Value::Set(items) => {
                self.write(&[op::EMPTY_SET]);
                self.memoize();
                self.batched(items, None, op::ADDITEMS);
            }
            Value::FrozenSet(items) => {
                self.write(&[op::MARK]);
                for x in items {
                    self.save(x);
                }
                self.write(&[op::FROZENSET]);
                self.memoize();
            }
            Value::Exception {
                module,
                class,
                args,
            } => {
                // BaseException.__reduce__ -> (cls, args): STACK_GLOBAL, args, REDUCE.
                self.save_str(module);
                self.save_str(class);
                self.write(&[op::STACK_GLOBAL]);
                self.memoize();
                self.save_tuple(args);
                self.write(&[op::REDUCE]);
                self.memoize();
            }
        }
        self.boundary();
    }

    fn save_tuple(&mut self, items: &[Value]) {
        match items.len() {
            0 => self.write(&[op::EMPTY_TUPLE]),
            n @ 1..=3 => {
                for x in items {
                    self.save(x);
                }
                self.write(&[op::TUPLE1 + n as u8 - 1]);
                self.memoize();
            }
            _ => {
                self.write(&[op::MARK]);
                for x in items {
                    self.save(x);
                }
                self.write(&[op::TUPLE]);
                self.memoize();
            }
        }
    }
}

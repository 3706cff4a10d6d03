//! Python 3.11's `pprint.pformat(obj, indent, width)` for [`Value`]s, byte for byte.
//!
//! `fail2ban-client --dp` prints every command of the dump with
//! `pformat(cmd, width=1000, indent=2)`; this mirrors `pprint.PrettyPrinter`
//! (`_format`, `_format_items`, `_pprint_str`, ...) with `compact=False`,
//! `sort_dicts=True` and no depth limit.

use crate::value::{py_lt, repr_bytes, repr_str, sorted_indices, Value};

impl Value {
    /// Python's `pprint.pformat(self, indent=indent, width=width)`.
    pub fn pformat(&self, indent: usize, width: usize) -> String {
        let mut p = Printer {
            ipl: indent as isize,
            width: width as isize,
            out: String::new(),
        };
        p.format(self, 0, 0, 0);
        p.out
    }
}

struct Printer {
    ipl: isize,
    width: isize,
    out: String,
}

fn clen(s: &str) -> isize {
    s.chars().count() as isize
}

fn safe_repr(v: &Value) -> String {
    let mut s = String::new();
    v.write_repr(&mut s, true);
    s
}

/// pprint's `_safe_key` ordering: Python's `<`, else the type names.
fn safe_lt(a: &Value, b: &Value) -> Option<bool> {
    py_lt(a, b).or_else(|| {
        let (x, y) = (a.type_name(), b.type_name());
        Some(x < y)
    })
}

impl Printer {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn spaces(&mut self, n: isize) {
        for _ in 0..n.max(0) {
            self.out.push(' ');
        }
    }

    fn format(&mut self, v: &Value, indent: isize, allowance: isize, level: usize) {
        let rep = safe_repr(v);
        let max_width = self.width - indent - allowance;
        if clen(&rep) > max_width {
            let level = level + 1;
            match v {
                Value::Dict(items) => return self.pprint_dict(items, indent, allowance, level),
                Value::List(items) => {
                    self.write("[");
                    self.format_items(items, indent, allowance + 1, level);
                    self.write("]");
                    return;
                }
                Value::Tuple(items) => {
                    self.write("(");
                    let endchar = if items.len() == 1 { ",)" } else { ")" };
                    self.format_items(items, indent, allowance + clen(endchar), level);
                    self.write(endchar);
                    return;
                }
                Value::Set(items) | Value::FrozenSet(items) if !items.is_empty() => {
                    let (open, endchar, extra) = if matches!(v, Value::Set(_)) {
                        ("{", "}", 0)
                    } else {
                        ("frozenset({", "})", 10)
                    };
                    self.write(open);
                    let order = sorted_indices(items.len(), |a, b| safe_lt(&items[a], &items[b]));
                    let sorted: Vec<Value> = order.into_iter().map(|i| items[i].clone()).collect();
                    self.format_items(&sorted, indent + extra, allowance + clen(endchar), level);
                    self.write(endchar);
                    return;
                }
                Value::Str(s) => return self.pprint_str(s, indent, allowance, level),
                Value::Bytes(b) => return self.pprint_bytes(b, indent, allowance, level),
                Value::ByteArray(b) => {
                    self.write("bytearray(");
                    self.pprint_bytes(b, indent + 10, allowance + 1, level + 1);
                    self.write(")");
                    return;
                }
                _ => {}
            }
        }
        self.write(&rep);
    }

    fn pprint_dict(
        &mut self,
        items: &[(Value, Value)],
        indent: isize,
        allowance: isize,
        level: usize,
    ) {
        self.write("{");
        if self.ipl > 1 {
            self.spaces(self.ipl - 1);
        }
        if !items.is_empty() {
            let order = sorted_indices(items.len(), |a, b| safe_lt(&items[a].0, &items[b].0));
            let indent = indent + self.ipl;
            let allowance = allowance + 1;
            let last_index = order.len() - 1;
            for (n, &i) in order.iter().enumerate() {
                let last = n == last_index;
                let rep = safe_repr(&items[i].0);
                self.write(&rep);
                self.write(": ");
                self.format(
                    &items[i].1,
                    indent + clen(&rep) + 2,
                    if last { allowance } else { 1 },
                    level,
                );
                if !last {
                    self.write(",\n");
                    self.spaces(indent);
                }
            }
        }
        self.write("}");
    }

    fn format_items(&mut self, items: &[Value], indent: isize, allowance: isize, level: usize) {
        let indent = indent + self.ipl;
        if self.ipl > 1 {
            self.spaces(self.ipl - 1);
        }
        for (n, v) in items.iter().enumerate() {
            let last = n + 1 == items.len();
            if n > 0 {
                self.write(",\n");
                self.spaces(indent);
            }
            self.format(v, indent, if last { allowance } else { 1 }, level);
        }
    }

    fn pprint_str(&mut self, s: &str, mut indent: isize, mut allowance: isize, level: usize) {
        if s.is_empty() {
            self.write(&repr_str(s));
            return;
        }
        let lines = split_lines_keepends(s);
        if level == 1 {
            indent += 1;
            allowance += 1;
        }
        let max_width = self.width - indent;
        let mut max_width1 = max_width;
        let mut chunks: Vec<String> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let rep = repr_str(line);
            let last_line = i == lines.len() - 1;
            if last_line {
                max_width1 -= allowance;
            }
            if clen(&rep) <= max_width1 {
                chunks.push(rep);
                continue;
            }
            let parts = split_words(line);
            let mut max_width2 = max_width;
            let mut current = String::new();
            for (j, part) in parts.iter().enumerate() {
                let candidate = format!("{current}{part}");
                if j == parts.len() - 1 && last_line {
                    max_width2 -= allowance;
                }
                if clen(&repr_str(&candidate)) > max_width2 {
                    if !current.is_empty() {
                        chunks.push(repr_str(&current));
                    }
                    current = part.to_string();
                } else {
                    current = candidate;
                }
            }
            if !current.is_empty() {
                chunks.push(repr_str(&current));
            }
        }
        if chunks.len() == 1 {
            self.write(&chunks[0]);
            return;
        }
        if level == 1 {
            self.write("(");
        }
        for (i, rep) in chunks.iter().enumerate() {
            if i > 0 {
                self.write("\n");
                self.spaces(indent);
            }
            self.write(rep);
        }
        if level == 1 {
            self.write(")");
        }
    }

    fn pprint_bytes(&mut self, b: &[u8], mut indent: isize, mut allowance: isize, level: usize) {
        if b.len() <= 4 {
            self.write(&repr_bytes(b));
            return;
        }
        let parens = level == 1;
        if parens {
            indent += 1;
            allowance += 1;
            self.write("(");
        }
        // pprint's _wrap_bytes_repr: 4-byte groups packed up to the width.
        let mut width = self.width - indent;
        let last = b.len() / 4 * 4;
        let mut current: Vec<u8> = Vec::new();
        let mut reps = Vec::new();
        for i in (0..b.len()).step_by(4) {
            let part = &b[i..(i + 4).min(b.len())];
            let mut candidate = current.clone();
            candidate.extend_from_slice(part);
            if i == last {
                width -= allowance;
            }
            if clen(&repr_bytes(&candidate)) > width {
                if !current.is_empty() {
                    reps.push(repr_bytes(&current));
                }
                current = part.to_vec();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            reps.push(repr_bytes(&current));
        }
        for (i, rep) in reps.iter().enumerate() {
            if i > 0 {
                self.write("\n");
                self.spaces(indent);
            }
            self.write(rep);
        }
        if parens {
            self.write(")");
        }
    }
}

/// Python's `str.splitlines(True)`.
fn split_lines_keepends(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(j, '\n')) = it.peek() {
                end = j + 1;
                it.next();
            }
        }
        out.push(&s[start..end]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Python's `str.isspace()` for one character (what `\s` matches in a str pattern).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `re.findall(r'\S*\s*', line)` without the trailing empty match.
fn split_words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let start = chars[k].0;
        while k < chars.len() && !py_isspace(chars[k].1) {
            k += 1;
        }
        while k < chars.len() && py_isspace(chars[k].1) {
            k += 1;
        }
        let end = chars.get(k).map_or(line.len(), |&(i, _)| i);
        out.push(&line[start..end]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_list_is_flat() {
        let v = Value::list(["set", "sshd", "maxlines"]);
        assert_eq!(v.pformat(2, 1000), "['set', 'sshd', 'maxlines']");
    }

    #[test]
    fn words_and_lines() {
        assert_eq!(split_words("  ab cd"), vec!["  ", "ab ", "cd"]);
        assert_eq!(
            split_lines_keepends("a\r\nb\rc\n"),
            vec!["a\r\n", "b\r", "c\n"]
        );
    }
}

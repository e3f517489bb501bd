//! The `.npy` header by hand: magic, version, and the header dict (a small Python-literal
//! parser), giving the dtype, memory order and shape.
//!
//! Why not `npyz::NpyFile`: reading never trusts the header. The callers check the claimed size
//! against the memory limit and against the bytes actually present *before* any data is read
//! (npyz allocates from the header), and the messages name exactly what is wrong ("truncated
//! .npy file: it ends inside the header", "structured dtype", an unknown key...), which the tests
//! and users rely on. The parser is small, fuzzed (`fuzz/fuzz_targets/npy.rs`) and never panics.

use std::io::{self, Read};

use crate::data::error::DataError;
use crate::data::printable::printable;

pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Headers above this are refused as corrupt (numpy itself refuses above 10 kB by default).
const MAX_HEADER_LEN: usize = 1 << 20;

/// The element type of an array this module can decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    /// numpy `U`: fixed-width UTF-32 strings; `size` is the number of characters.
    Unicode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Descr {
    pub kind: Kind,
    /// Bytes per element, or characters per element for `Unicode`.
    pub size: usize,
    pub big_endian: bool,
}

impl Descr {
    pub fn itemsize(&self) -> usize {
        match self.kind {
            Kind::Unicode => self.size * 4,
            _ => self.size,
        }
    }

    pub fn is_numeric(&self) -> bool {
        self.kind != Kind::Unicode
    }
}

/// A parsed `.npy` header.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    /// The dtype as written in the file (`<f4`, `>i8`, ...).
    pub descr_text: String,
    pub descr: Descr,
    pub fortran: bool,
    pub shape: Vec<usize>,
    /// Bytes from the start of the `.npy` stream to the first data byte.
    pub data_offset: u64,
}

impl Header {
    /// Number of elements, or `None` on overflow.
    pub fn count(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
    }

    /// Bytes of data the header claims, or `None` on overflow.
    pub fn data_bytes(&self) -> Option<u64> {
        let n = self.count()? as u64;
        n.checked_mul(self.descr.itemsize() as u64)
    }
}

/// Shape as numpy prints it: `()`, `(5,)`, `(360, 16, 4, 4)`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [a] => format!("({a},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) fn corrupt(what: &str, reason: impl Into<String>) -> DataError {
    DataError::Corrupt {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// Read exactly `buf.len()` bytes, turning a short read into a "truncated" message.
fn read_exact_or(
    r: &mut impl Read,
    buf: &mut [u8],
    what: &str,
    part: &str,
) -> Result<(), DataError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => corrupt(
            what,
            format!("truncated .npy file: it ends inside the {part}"),
        ),
        _ => corrupt(what, format!("cannot read the {part}: {e}")),
    })
}

/// Parse the magic, version and header dict. Leaves `r` at the first data byte.
pub(crate) fn read_header(r: &mut impl Read, what: &str) -> Result<Header, DataError> {
    let mut pre = [0u8; 8];
    let mut got = 0;
    while got < pre.len() {
        match r.read(&mut pre[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(corrupt(what, format!("cannot read the .npy header: {e}"))),
        }
    }
    if got == 0 {
        return Err(corrupt(
            what,
            "the file is empty (0 bytes), not a .npy array",
        ));
    }
    if pre.starts_with(b"PK\x03\x04") || pre.starts_with(b"PK\x05\x06") {
        return Err(corrupt(
            what,
            "this is a zip archive (an .npz?), not a .npy array",
        ));
    }
    if got < 6 || &pre[..6] != MAGIC {
        return Err(corrupt(
            what,
            "not a .npy array (the magic bytes \\x93NUMPY are missing)",
        ));
    }
    if got < 8 {
        return Err(corrupt(
            what,
            "truncated .npy file: it ends inside the header",
        ));
    }
    let (major, minor) = (pre[6], pre[7]);
    let (len, prefix) = match major {
        1 => {
            let mut b = [0u8; 2];
            read_exact_or(r, &mut b, what, "header")?;
            (u16::from_le_bytes(b) as usize, 10u64)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            read_exact_or(r, &mut b, what, "header")?;
            (u32::from_le_bytes(b) as usize, 12u64)
        }
        _ => {
            return Err(corrupt(
                what,
                format!("unsupported .npy format version {major}.{minor} (known: 1.0, 2.0, 3.0)"),
            ))
        }
    };
    if len > MAX_HEADER_LEN {
        return Err(corrupt(
            what,
            format!("corrupt .npy header: it claims to be {len} bytes long"),
        ));
    }
    let mut text = vec![0u8; len];
    read_exact_or(r, &mut text, what, "header")?;
    let text: String = if major == 3 {
        String::from_utf8(text)
            .map_err(|_| corrupt(what, "corrupt .npy header: not valid UTF-8"))?
    } else {
        // Versions 1 and 2 are latin-1.
        text.iter().map(|&b| b as char).collect()
    };
    let header = parse_header_dict(&text, what)?;
    Ok(Header {
        data_offset: prefix + len as u64,
        ..header
    })
}

pub(super) fn parse_header_dict(text: &str, what: &str) -> Result<Header, DataError> {
    let bad = |why: &str| {
        corrupt(
            what,
            format!(
                "corrupt .npy header ({why}): {}",
                printable(text.trim_end())
            ),
        )
    };
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value().map_err(|e| bad(&e))?;
    p.ws();
    if p.i != p.s.len() {
        return Err(bad("unexpected text after the dict"));
    }
    let Value::Dict(items) = v else {
        return Err(bad("not a dict"));
    };
    let get = |k: &str| {
        items.iter().find_map(|(key, val)| match key {
            Value::Str(s) if s == k => Some(val),
            _ => None,
        })
    };
    let descr_v = get("descr").ok_or_else(|| bad("no 'descr'"))?;
    let fortran = match get("fortran_order") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("'fortran_order' is not True/False")),
        None => return Err(bad("no 'fortran_order'")),
    };
    let shape = match get("shape") {
        Some(Value::Tuple(items) | Value::List(items)) => items
            .iter()
            .map(|d| match d {
                Value::Int(n) => usize::try_from(*n).map_err(|_| bad("a dimension is too large")),
                _ => Err(bad("'shape' holds a non-integer")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(bad("'shape' is not a tuple")),
        None => return Err(bad("no 'shape'")),
    };
    // numpy silently takes the last of duplicate keys; a header that says two things is refused.
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &items {
        let Value::Str(k) = key else {
            return Err(bad("a key is not a string"));
        };
        if !["descr", "fortran_order", "shape"].contains(&k.as_str()) {
            return Err(bad(&format!("unknown key '{}'", printable(k))));
        }
        if seen.contains(&k.as_str()) {
            return Err(bad(&format!("the key '{k}' appears twice")));
        }
        seen.push(k);
    }
    let (descr_text, descr) = match descr_v {
        Value::Str(s) => (s.clone(), parse_descr(s, what)?),
        other => {
            let t = other.repr();
            return Err(DataError::Dtype {
                what: what.to_string(),
                dtype: t,
                reason: "a structured (record) dtype; save each field as its own plain array"
                    .into(),
            });
        }
    };
    Ok(Header {
        descr_text,
        descr,
        fortran,
        shape,
        data_offset: 0,
    })
}

/// Parse a numpy type string such as `<f4`, `>i8`, `|u1`, `<U12`.
pub(crate) fn parse_descr(s: &str, what: &str) -> Result<Descr, DataError> {
    let refuse = |reason: &str| DataError::Dtype {
        what: what.to_string(),
        dtype: s.to_string(),
        reason: reason.to_string(),
    };
    let (big_endian, rest) = match s.as_bytes().first() {
        Some(b'<') => (false, &s[1..]),
        Some(b'>') => (true, &s[1..]),
        Some(b'|') => (false, &s[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &s[1..]),
        _ => (cfg!(target_endian = "big"), s),
    };
    let mut chars = rest.chars();
    let Some(code) = chars.next() else {
        return Err(refuse("an empty type string"));
    };
    let tail = chars.as_str();
    let size: Option<usize> = tail.parse().ok();
    let kind = match code {
        'b' => Kind::Bool,
        'i' => Kind::Int,
        'u' => Kind::UInt,
        'f' => Kind::Float,
        'U' => Kind::Unicode,
        'c' => {
            return Err(refuse(
                "complex numbers; save the real part or the magnitude instead",
            ))
        }
        'O' => {
            return Err(refuse(
                "an object array of Python objects; save a plain numeric array",
            ))
        }
        'S' | 'a' => return Err(refuse("byte strings, not numbers")),
        'V' => return Err(refuse("raw void bytes, not numbers")),
        'M' | 'm' => return Err(refuse("dates/time spans, not numbers")),
        _ => return Err(refuse("an unknown type code")),
    };
    let Some(size) = size else {
        return Err(refuse("an unreadable element size"));
    };
    let ok = match kind {
        Kind::Bool => size == 1,
        Kind::Int | Kind::UInt => matches!(size, 1 | 2 | 4 | 8),
        Kind::Float => matches!(size, 2 | 4 | 8),
        // Zero-width strings would let a tiny file promise billions of empty elements.
        Kind::Unicode => (1..(1 << 24)).contains(&size),
    };
    if !ok {
        if kind == Kind::Float && size > 8 {
            return Err(refuse(
                "extended precision (long double); convert to float64 first",
            ));
        }
        return Err(refuse("an unsupported element size"));
    }
    Ok(Descr {
        kind,
        size,
        big_endian,
    })
}

// ---------------------------------------------------------------------------------------------
// A tiny parser for the Python literals that appear in .npy headers.

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    Int(u128),
    Bool(bool),
    None,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

impl Value {
    fn repr(&self) -> String {
        match self {
            Value::Str(s) => format!("'{s}'"),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::None => "None".to_string(),
            Value::Tuple(v) if v.len() == 1 => format!("({},)", v[0].repr()),
            Value::Tuple(v) => format!(
                "({})",
                v.iter().map(Value::repr).collect::<Vec<_>>().join(", ")
            ),
            Value::List(v) => format!(
                "[{}]",
                v.iter().map(Value::repr).collect::<Vec<_>>().join(", ")
            ),
            Value::Dict(v) => format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, x)| format!("{}: {}", k.repr(), x.repr()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn value(&mut self) -> Result<Value, String> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        match self.peek() {
            None => Err("ends early".into()),
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Value::Dict(items));
                    }
                    let k = self.value_at(depth + 1)?;
                    if self.peek() != Some(b':') {
                        return Err("expected ':'".into());
                    }
                    self.i += 1;
                    let v = self.value_at(depth + 1)?;
                    items.push((k, v));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err("expected ',' or '}'".into()),
                    }
                }
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        return Ok(if open == b'(' {
                            Value::Tuple(items)
                        } else {
                            Value::List(items)
                        });
                    }
                    items.push(self.value_at(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(c) if c == close => {}
                        _ => return Err("expected ',' or a closing bracket".into()),
                    }
                }
            }
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != q {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                if self.i >= self.s.len() {
                    return Err("unterminated string".into());
                }
                let t = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Ok(Value::Str(t))
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let digits =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|_| "bad number")?;
                let n: u128 = digits.parse().map_err(|_| "number too large".to_string())?;
                // Python 2 long suffix.
                if matches!(self.s.get(self.i), Some(b'L' | b'l')) {
                    self.i += 1;
                }
                Ok(Value::Int(n))
            }
            Some(b'-') => Err("negative number".into()),
            Some(_) => {
                for (word, v) in [
                    (&b"True"[..], Value::Bool(true)),
                    (b"False", Value::Bool(false)),
                    (b"None", Value::None),
                ] {
                    if self.s[self.i..].starts_with(word) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                Err("unexpected character".into())
            }
        }
    }
}

//! The `.npy` format by hand: header parsing (a small Python-literal parser), dtype decoding
//! (every numeric dtype incl. f16 and both byte orders, plus `<U` strings) and header writing.
//!
//! Reading never trusts the header: the caller checks the claimed size against memory and the
//! bytes actually present before any data is read, and every failure is an error, not a panic.

use std::io::{self, Read};

use super::error::DataError;

/// `.npy` magic string.
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

fn corrupt(what: &str, reason: impl Into<String>) -> DataError {
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

fn parse_header_dict(text: &str, what: &str) -> Result<Header, DataError> {
    let bad = |why: &str| {
        corrupt(
            what,
            format!(
                "corrupt .npy header ({why}): {}",
                super::printable(text.trim_end())
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
            return Err(bad(&format!("unknown key '{}'", super::printable(k))));
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

// ---------------------------------------------------------------------------------------------
// Decoding.

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let man = f64::from(h & 0x3ff);
    match exp {
        0 => sign * man * 2f64.powi(-24),
        31 if man == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + man / 1024.0) * 2f64.powi(e - 15),
    }
}

macro_rules! decode_as {
    ($bytes:expr, $big:expr, $t:ty, $n:expr, $out:expr, $conv:expr) => {
        for c in $bytes.chunks_exact($n) {
            let mut a = [0u8; $n];
            a.copy_from_slice(c);
            let v = if $big {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            };
            $out.push($conv(v));
        }
    };
}

/// Append the numeric elements in `bytes` (a whole number of items) to `out` as f64.
fn decode_f64(bytes: &[u8], d: &Descr, out: &mut Vec<f64>) {
    let be = d.big_endian;
    match (d.kind, d.size) {
        (Kind::Bool, _) => out.extend(bytes.iter().map(|&b| f64::from(u8::from(b != 0)))),
        (Kind::Int, 1) => out.extend(bytes.iter().map(|&b| f64::from(b as i8))),
        (Kind::UInt, 1) => out.extend(bytes.iter().map(|&b| f64::from(b))),
        (Kind::Int, 2) => decode_as!(bytes, be, i16, 2, out, f64::from),
        (Kind::Int, 4) => decode_as!(bytes, be, i32, 4, out, f64::from),
        (Kind::Int, _) => decode_as!(bytes, be, i64, 8, out, |v: i64| v as f64),
        (Kind::UInt, 2) => decode_as!(bytes, be, u16, 2, out, f64::from),
        (Kind::UInt, 4) => decode_as!(bytes, be, u32, 4, out, f64::from),
        (Kind::UInt, _) => decode_as!(bytes, be, u64, 8, out, |v: u64| v as f64),
        (Kind::Float, 2) => decode_as!(bytes, be, u16, 2, out, f16_to_f64),
        (Kind::Float, 4) => decode_as!(bytes, be, f32, 4, out, f64::from),
        (Kind::Float, _) => decode_as!(bytes, be, f64, 8, out, |v: f64| v),
        (Kind::Unicode, _) => {}
    }
}

/// Append integer/bool elements to `out` exactly; fails on a uint64 above `i64::MAX`.
fn decode_i64(bytes: &[u8], d: &Descr, out: &mut Vec<i64>) -> Result<(), String> {
    let be = d.big_endian;
    match (d.kind, d.size) {
        (Kind::Bool, _) => out.extend(bytes.iter().map(|&b| i64::from(b != 0))),
        (Kind::Int, 1) => out.extend(bytes.iter().map(|&b| i64::from(b as i8))),
        (Kind::UInt, 1) => out.extend(bytes.iter().map(|&b| i64::from(b))),
        (Kind::Int, 2) => decode_as!(bytes, be, i16, 2, out, i64::from),
        (Kind::Int, 4) => decode_as!(bytes, be, i32, 4, out, i64::from),
        (Kind::Int, _) => decode_as!(bytes, be, i64, 8, out, |v: i64| v),
        (Kind::UInt, 2) => decode_as!(bytes, be, u16, 2, out, i64::from),
        (Kind::UInt, 4) => decode_as!(bytes, be, u32, 4, out, i64::from),
        (Kind::UInt, _) => {
            for c in bytes.chunks_exact(8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                let v = if be {
                    u64::from_be_bytes(a)
                } else {
                    u64::from_le_bytes(a)
                };
                out.push(
                    i64::try_from(v).map_err(|_| format!("the value {v} does not fit in int64"))?,
                );
            }
        }
        (Kind::Float | Kind::Unicode, _) => return Err("not an integer dtype".into()),
    }
    Ok(())
}

/// Decode fixed-width UTF-32 strings, dropping numpy's trailing NUL padding.
fn decode_strings(bytes: &[u8], d: &Descr, out: &mut Vec<String>) -> Result<(), String> {
    let item = d.itemsize();
    if item == 0 {
        return Ok(());
    }
    for c in bytes.chunks_exact(item) {
        let mut s = String::with_capacity(d.size);
        for u in c.chunks_exact(4) {
            let mut a = [0u8; 4];
            a.copy_from_slice(u);
            let cp = if d.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            };
            s.push(char::from_u32(cp).ok_or_else(|| format!("invalid character code {cp:#x}"))?);
        }
        let trimmed = s.trim_end_matches('\0').len();
        s.truncate(trimmed);
        out.push(s);
    }
    Ok(())
}

/// What `read_data` produced.
#[derive(Debug)]
pub(crate) enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
}

/// How to decode a stream of `n` elements.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Everything numeric as f64.
    F64,
    /// Floats as f64, integers and bools exactly as i64, strings as strings.
    Native,
}

/// Error while reading the data block.
#[derive(Debug)]
pub(crate) enum DataReadError {
    Io(io::Error),
    /// The data block is shorter than the header claims.
    Truncated,
    /// No memory for the destination.
    Alloc,
    /// A value that cannot be represented (uint64 overflow, invalid character).
    Value(String),
}

/// Elements reserved before any data has been read (128 MB of float64).
const PREALLOC_ITEMS: usize = 1 << 24;

/// Read and decode `n` elements, streaming in chunks so the peak memory is the destination only.
pub(crate) fn read_data(
    r: &mut impl Read,
    d: &Descr,
    n: usize,
    want: Want,
) -> Result<Values, DataReadError> {
    let item = d.itemsize().max(1);
    let chunk_items = ((1usize << 16) / item).max(1);
    let mut buf = vec![0u8; chunk_items * item];
    let native_kind = match (want, d.kind) {
        (_, Kind::Unicode) => 2,
        (Want::Native, Kind::Bool | Kind::Int | Kind::UInt) => 1,
        _ => 0,
    };
    // A header (or zip entry) can promise more than the stream holds; reserve a bounded amount
    // first and the rest only once the data have shown up, so a lie costs no huge allocation.
    let first = n.min(PREALLOC_ITEMS);
    let mut out = match native_kind {
        0 => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::F64(v)
        }
        1 => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::I64(v)
        }
        _ => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::Str(v)
        }
    };
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk_items);
        let b = &mut buf[..k * d.itemsize()];
        r.read_exact(b).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => DataReadError::Truncated,
            _ => DataReadError::Io(e),
        })?;
        let done = n - left;
        let rest = n - done;
        let grown = match &mut out {
            Values::F64(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            Values::I64(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            Values::Str(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            _ => Ok(()),
        };
        grown.map_err(|_| DataReadError::Alloc)?;
        match &mut out {
            Values::F64(v) => decode_f64(b, d, v),
            Values::I64(v) => decode_i64(b, d, v).map_err(DataReadError::Value)?,
            Values::Str(v) => decode_strings(b, d, v).map_err(DataReadError::Value)?,
        }
        left -= k;
    }
    Ok(out)
}

/// Permute `data` (stored in Fortran order for `shape`) into C order; `None` if the length does
/// not match the shape.
///
/// Fortran order of `(d0, rest...)` is a C-ordered `(M, d0)` matrix whose row index runs over
/// `rest` in Fortran order; a cache-blocked transpose gives `(d0, M)`, and each row of length `M`
/// is then the same problem for `rest`.
pub(crate) fn fortran_to_c<T: Clone>(data: Vec<T>, shape: &[usize]) -> Option<Vec<T>> {
    if shape.len() < 2 {
        return (shape.first().copied().unwrap_or(1) == data.len()).then_some(data);
    }
    let n = shape[0];
    let m = shape[1..]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if n.checked_mul(m)? != data.len() {
        return None;
    }
    let Some(first) = data.first() else {
        return Some(data);
    };
    const B: usize = 64;
    let mut out = vec![first.clone(); data.len()];
    for jb in (0..m).step_by(B) {
        for ib in (0..n).step_by(B) {
            for j in jb..(jb + B).min(m) {
                for i in ib..(ib + B).min(n) {
                    out[i * m + j] = data[j * n + i].clone();
                }
            }
        }
    }
    drop(data);
    if shape.len() > 2 {
        let rest = &shape[1..];
        let mut done = Vec::with_capacity(out.len());
        for row in out.chunks(m) {
            done.extend(fortran_to_c(row.to_vec(), rest)?);
        }
        out = done;
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// A complete version 1.0 (or 2.0 when huge) header for C-ordered data, padded to 64 bytes.
pub(crate) fn header_bytes(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        fmt_shape(shape)
    );
    // +1 for the final newline.
    let unpadded_v1 = 10 + dict.len() + 1;
    let (prefix, v2) = if unpadded_v1.div_ceil(64) * 64 - 10 <= u16::MAX as usize {
        (10usize, false)
    } else {
        (12usize, true)
    };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    let hlen = total - prefix;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    if v2 {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(hlen as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(hlen as u16).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_strings_are_refused() {
        assert!(parse_descr("<U0", "x.npy").is_err());
        assert!(parse_descr("<U1", "x.npy").is_ok());
    }

    #[test]
    fn parses_headers() {
        let h = parse_header_dict(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
            "x",
        )
        .unwrap();
        assert_eq!(h.shape, vec![3, 4]);
        assert!(!h.fortran);
        assert_eq!(h.descr.kind, Kind::Float);
        let h = parse_header_dict(
            "{'descr': '>i8', 'fortran_order': True, 'shape': (7,)}",
            "x",
        )
        .unwrap();
        assert_eq!(h.shape, vec![7]);
        assert!(h.fortran && h.descr.big_endian);
        let h = parse_header_dict("{'descr': '<U5', 'fortran_order': False, 'shape': ()}", "x")
            .unwrap();
        assert!(h.shape.is_empty());
        assert_eq!(h.descr.itemsize(), 20);
        let e = parse_header_dict(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("structured"), "{e}");
        for bad in [
            "",
            "{",
            "{'descr': '<f4'}",
            "[1, 2]",
            "{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}",
        ] {
            assert!(parse_header_dict(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x3800), 0.5);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7c00).is_infinite());
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn header_is_padded() {
        for shape in [vec![], vec![3], vec![360, 16, 4, 4]] {
            let h = header_bytes("<f8", &shape);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
            let parsed = read_header(&mut &h[..], "t").unwrap();
            assert_eq!(parsed.shape, shape);
            assert_eq!(parsed.data_offset as usize, h.len());
        }
    }

    #[test]
    fn fortran_reorder() {
        // 2x3 matrix [[0,1,2],[3,4,5]] stored column-major.
        let f = vec![0, 3, 1, 4, 2, 5];
        assert_eq!(fortran_to_c(f, &[2, 3]), Some(vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(fortran_to_c(vec![1, 2], &[2, 3]), None);
        // 3-D and 4-D against ndarray's own layout handling.
        use ndarray::ShapeBuilder;
        for shape in [
            vec![3, 4, 5],
            vec![70, 2, 3, 66],
            vec![1, 1, 1],
            vec![130, 67],
        ] {
            let n: usize = shape.iter().product();
            let c: Vec<usize> = (0..n).collect();
            let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), c.clone()).unwrap();
            let mut f = ndarray::ArrayD::zeros(ndarray::IxDyn(&shape).f());
            f.assign(&a);
            let f_data = f.as_slice_memory_order().unwrap().to_vec();
            assert_eq!(fortran_to_c(f_data, &shape), Some(c), "{shape:?}");
        }
        assert_eq!(fortran_to_c(Vec::<u8>::new(), &[0, 5]), Some(vec![]));
    }
}

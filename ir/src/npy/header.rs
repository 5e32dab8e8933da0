//! The `.npy` header (NumPy's format, versions 1.0, 2.0 and 3.0): the magic string, the
//! version, the header length and a Python dict literal giving `descr`, `fortran_order`
//! and `shape`. Parsing is pure (bytes in, [`NpyHeader`] out) so the format is tested
//! without files; errors say what is wrong and never panic.

use crate::dtype::DType;

/// The first six bytes of every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// NumPy aligns the start of the data to this many bytes.
const ALIGN: usize = 64;

/// What a `.npy` header says about the array that follows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: DType,
    /// Whether elements are stored big-endian (converted on read).
    pub big_endian: bool,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// Shape of the array.
    pub shape: Vec<usize>,
    /// Byte offset of the first element (the header's total length).
    pub data_offset: u64,
}

impl NpyHeader {
    /// NumPy's `descr` of the element type: `<f8`, `>i4`, `|b1`, ...
    pub fn descr(&self) -> String {
        let code = match self.dtype {
            DType::Bool => return "|b1".into(),
            DType::I32 => "i4",
            DType::I64 => "i8",
            DType::F32 => "f4",
            DType::F64 => "f8",
        };
        format!("{}{code}", if self.big_endian { '>' } else { '<' })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of data the header announces (`None` on overflow).
    pub fn data_len(&self) -> Option<u64> {
        self.shape.iter().try_fold(self.dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
    }

    /// The number of header bytes to read before [`NpyHeader::parse`] can be called: the
    /// fixed prefix (magic, version, length) gives the total, or an error for a bad prefix.
    pub fn total_len(prefix: &[u8]) -> Result<usize, String> {
        if prefix.len() < 10 || &prefix[..6] != MAGIC {
            return Err("not a .npy file (the magic string \\x93NUMPY is missing)".into());
        }
        let (major, minor) = (prefix[6], prefix[7]);
        match major {
            1 => Ok(10 + u16::from_le_bytes([prefix[8], prefix[9]]) as usize),
            2 | 3 if prefix.len() >= 12 => {
                let n = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize;
                Ok(12 + n)
            }
            2 | 3 => Err("the header is truncated".into()),
            _ => Err(format!("unsupported .npy format version {major}.{minor}")),
        }
    }

    /// Parses a complete header (`bytes` holds at least [`NpyHeader::total_len`] bytes).
    pub fn parse(bytes: &[u8]) -> Result<NpyHeader, String> {
        let total = Self::total_len(bytes)?;
        if bytes.len() < total {
            return Err(format!("the header is truncated ({} of {total} bytes)", bytes.len()));
        }
        let start = if bytes[6] == 1 { 10 } else { 12 };
        let text = &bytes[start..total];
        let text = match bytes[6] {
            3 => std::str::from_utf8(text).map_err(|_| "the header is not valid UTF-8".to_string())?,
            _ => std::str::from_utf8(text)
                .ok()
                .filter(|t| t.is_ascii())
                .ok_or_else(|| "the header is not ASCII".to_string())?,
        };
        let dict = parse_dict(text)?;
        let mut descr = None;
        let mut fortran = None;
        let mut shape = None;
        for (key, value) in dict {
            match (key.as_str(), value) {
                ("descr", Literal::Str(s)) => descr = Some(s),
                ("descr", other) => return Err(format!("unsupported dtype descr {}", other.describe())),
                ("fortran_order", Literal::Bool(b)) => fortran = Some(b),
                ("shape", Literal::Tuple(dims)) => shape = Some(dims),
                (k, v) => return Err(format!("unexpected header entry '{k}': {}", v.describe())),
            }
        }
        let descr = descr.ok_or("the header has no 'descr'")?;
        let fortran_order = fortran.ok_or("the header has no 'fortran_order'")?;
        let shape = shape.ok_or("the header has no 'shape'")?;
        let (dtype, big_endian) = parse_descr(&descr)?;
        let header = NpyHeader { dtype, big_endian, fortran_order, shape, data_offset: total as u64 };
        if header.data_len().is_none() {
            return Err(format!("the shape {:?} is too large", header.shape));
        }
        Ok(header)
    }

    /// The header bytes NumPy would write for this array (version 1.0, or 2.0 when the dict
    /// does not fit 65535 bytes), padded so the data starts at a multiple of 64 bytes.
    /// `data_offset` is ignored; the result's length is where the data goes.
    pub fn encode(&self) -> Vec<u8> {
        let shape = match self.shape.as_slice() {
            [] => "()".to_string(),
            [d] => format!("({d},)"),
            dims => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
        };
        let fortran = if self.fortran_order { "True" } else { "False" };
        let dict = format!("{{'descr': '{}', 'fortran_order': {fortran}, 'shape': {shape}, }}", self.descr());
        let (version, prefix) = if dict.len() + 1 + 10 + ALIGN <= u16::MAX as usize { (1u8, 10) } else { (2u8, 12) };
        let unpadded = prefix + dict.len() + 1;
        let total = unpadded.next_multiple_of(ALIGN);
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version, 0]);
        let header_len = total - prefix;
        if version == 1 {
            out.extend_from_slice(&(header_len as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header_len as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    }
}

/// The dtype and byte order of a `descr` kiln reads.
fn parse_descr(descr: &str) -> Result<(DType, bool), String> {
    let unsupported =
        || format!("unsupported dtype descr '{descr}' (kiln reads b1, i4, i8, f4 and f8, little- or big-endian)");
    let (order, code) = match descr.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => (descr.as_bytes()[0], &descr[1..]),
        _ => (b'|', descr),
    };
    let big_endian = match order {
        b'>' => true,
        b'=' => cfg!(target_endian = "big"),
        _ => false,
    };
    let dtype = match code {
        "b1" | "?" => DType::Bool,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => return Err(unsupported()),
    };
    if order == b'|' && dtype != DType::Bool {
        return Err(unsupported());
    }
    Ok((dtype, big_endian && dtype != DType::Bool))
}

/// A value of the header's Python literal dict.
#[derive(Debug, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    List,
}

impl Literal {
    fn describe(&self) -> String {
        match self {
            Literal::Str(s) => format!("'{s}'"),
            Literal::Bool(b) => if *b { "True" } else { "False" }.into(),
            Literal::Tuple(d) => format!("{d:?}"),
            Literal::List => "a list (a structured dtype)".into(),
        }
    }
}

/// A cursor over the header's dict literal.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while let Some(c) = self.text[self.pos..].chars().next().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.text[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(self.error(&format!("expected '{c}'"))) }
    }

    fn error(&self, what: &str) -> String {
        let rest: String = self.text[self.pos..].chars().take(20).collect();
        format!("malformed header dict: {what} at byte {} (near {rest:?})", self.pos)
    }

    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let quote = match self.text[self.pos..].chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.error("expected a string")),
        };
        let start = self.pos + 1;
        let end = self.text[start..].find(quote).ok_or_else(|| self.error("unterminated string"))?;
        self.pos = start + end + 1;
        Ok(self.text[start..start + end].to_string())
    }

    fn value(&mut self) -> Result<Literal, String> {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        if rest.starts_with('\'') || rest.starts_with('"') {
            return self.string().map(Literal::Str);
        }
        for (word, b) in [("True", true), ("False", false)] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(Literal::Bool(b));
            }
        }
        if rest.starts_with('[') {
            return Ok(Literal::List);
        }
        self.expect('(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(')') {
                return Ok(Literal::Tuple(dims));
            }
            self.skip_ws();
            let digits = self.text[self.pos..].chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(self.error("expected a non-negative integer"));
            }
            let n = self.text[self.pos..self.pos + digits].parse().map_err(|_| self.error("dimension too large"))?;
            dims.push(n);
            self.pos += digits;
            // Python 2 wrote long integers with an `L` suffix.
            self.eat('L');
            if !self.eat(',') {
                self.expect(')')?;
                return Ok(Literal::Tuple(dims));
            }
        }
    }
}

/// The entries of a dict literal like `{'descr': '<f8', 'shape': (3,), }`.
fn parse_dict(text: &str) -> Result<Vec<(String, Literal)>, String> {
    let mut c = Cursor { text, pos: 0 };
    c.expect('{')?;
    let mut entries = Vec::new();
    loop {
        if c.eat('}') {
            break;
        }
        let key = c.string()?;
        c.expect(':')?;
        let value = c.value()?;
        if value == Literal::List {
            return Err(format!("unsupported dtype descr {} for '{key}'", value.describe()));
        }
        entries.push((key, value));
        if !c.eat(',') {
            c.expect('}')?;
            break;
        }
    }
    c.skip_ws();
    if c.pos != text.len() {
        return Err(c.error("unexpected text after the dict"));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dict: &str, version: u8) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out
    }

    #[test]
    fn encoded_headers_parse_back_and_align_the_data() {
        for shape in [vec![], vec![5], vec![3, 4], vec![0, 2, 7]] {
            for (dtype, big_endian, fortran_order) in
                [(DType::F64, false, false), (DType::I32, true, true), (DType::Bool, false, true)]
            {
                let h = NpyHeader { dtype, big_endian, fortran_order, shape: shape.clone(), data_offset: 0 };
                let bytes = h.encode();
                assert_eq!(bytes.len() % ALIGN, 0);
                let back = NpyHeader::parse(&bytes).unwrap();
                assert_eq!(back, NpyHeader { data_offset: bytes.len() as u64, ..h });
            }
        }
    }

    #[test]
    fn every_version_and_spelling_parses() {
        let dict = "{\"shape\": (2L, 3), 'fortran_order': True, 'descr': '>f4'}\n";
        for version in [1, 2, 3] {
            let h = NpyHeader::parse(&header(dict, version)).unwrap();
            assert_eq!((h.dtype, h.big_endian, h.fortran_order, h.shape), (DType::F32, true, true, vec![2, 3]));
        }
        let h = NpyHeader::parse(&header("{'descr': '|b1', 'fortran_order': False, 'shape': ()}", 1)).unwrap();
        assert_eq!((h.dtype, h.shape.len(), h.descr()), (DType::Bool, 0, "|b1".to_string()));
    }

    #[test]
    fn bad_headers_say_what_is_wrong() {
        let err = |bytes: &[u8]| NpyHeader::parse(bytes).unwrap_err();
        assert!(err(b"PK\x03\x04 not numpy").contains("magic"));
        assert!(err(&header("{'descr': '<u2', 'fortran_order': False, 'shape': (3,)}", 1)).contains("'<u2'"));
        assert!(err(&header("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}", 1)).contains("list"));
        assert!(err(&header("{'descr': '<f8', 'shape': (3,)}", 1)).contains("fortran_order"));
        assert!(err(&header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,-1)}", 1)).contains("integer"));
        assert!(err(&header("{'descr': '<f8'", 1)).contains("malformed"));
        let mut v9 = header("{}", 1);
        v9[6] = 9;
        assert!(err(&v9).contains("version 9.0"));
        let full = header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", 1);
        assert!(err(&full[..20]).contains("truncated"));
        assert!(err(&header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x", 1)).contains("after"));
    }
}

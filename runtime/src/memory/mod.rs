//! The memory budget of a run: how many bytes of task values it may hold, where it spills
//! the rest, and the thresholds at which it spills and pauses (as Dask's worker memory
//! fractions: spill above 60 % of the limit down to 50 %, run one task at a time above 75 %;
//! the rest is headroom for what running tasks hold beyond their inputs and outputs: read
//! buffers, kernel scratch, spill I/O buffers, the allocator's slack).
//! `KILN_MEMORY_LIMIT` (`512MiB`, `2GB`, `0.25` of RAM, `off`) and `KILN_SPILL_DIR` set it
//! from the environment; by default it is half of the machine's memory, or of the cgroup's
//! limit when the process runs under a lower one.

pub(crate) mod spill;

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// How much memory a run may hold in task values, and where it spills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The most bytes of task values (stored values plus the estimated outputs of running
    /// tasks) a run holds in memory.
    pub limit: usize,
    /// Where spill files go (a fresh folder per run inside it, removed when the run ends);
    /// `None`: the system's temporary folder.
    pub spill_dir: Option<PathBuf>,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, spilling to the system's temporary folder.
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget { limit, spill_dir: None }
    }

    /// The same budget spilling into `dir`.
    pub fn with_spill_dir(mut self, dir: impl Into<PathBuf>) -> MemoryBudget {
        self.spill_dir = Some(dir.into());
        self
    }

    /// Half of the memory this process may use: the machine's, or its cgroup's limit when
    /// lower. Read once per process.
    pub fn system_default() -> MemoryBudget {
        static DEFAULT: OnceLock<usize> = OnceLock::new();
        MemoryBudget::new(*DEFAULT.get_or_init(|| available_memory() / 2))
    }

    /// The budget the environment asks for: `KILN_MEMORY_LIMIT` (see [`parse_limit`]; `off`
    /// means no budget: `Ok(None)`) and `KILN_SPILL_DIR`; the system default otherwise.
    pub fn from_env() -> Result<Option<MemoryBudget>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let budget = match var("KILN_MEMORY_LIMIT") {
            Some(v) => match parse_limit(&v) {
                Some(Some(limit)) => Some(MemoryBudget::new(limit)),
                Some(None) => None,
                None => {
                    return Err(Error::InvalidOption {
                        name: "KILN_MEMORY_LIMIT".into(),
                        value: v,
                        expected: "a size such as 512MiB or 2GB, a fraction of memory such as 0.5, or off".into(),
                    });
                }
            },
            None => Some(MemoryBudget::system_default()),
        };
        Ok(budget.map(|b| match var("KILN_SPILL_DIR") {
            Some(dir) => b.with_spill_dir(dir),
            None => b,
        }))
    }

    /// Above this many bytes held, a run spills values to disk.
    pub(crate) fn spill_above(&self) -> usize {
        self.limit / 10 * 6
    }

    /// Spilling goes on until the bytes held are at most this.
    pub(crate) fn spill_down_to(&self) -> usize {
        self.limit / 2
    }

    /// Above this many bytes held, a run starts one task at a time.
    pub(crate) fn pause_above(&self) -> usize {
        self.limit / 4 * 3
    }
}

/// Parses a memory limit: a byte count with an optional unit (`B`, `kB`/`KiB`, `MB`/`MiB`,
/// `GB`/`GiB`, `TB`/`TiB`; case-insensitive, spaces allowed), a fraction of the available
/// memory (`0.25`), or `off`/`none`/`0` for no limit (`Some(None)`). `None` when it cannot be
/// read.
pub fn parse_limit(text: &str) -> Option<Option<usize>> {
    let t = text.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "off" | "none" | "0") {
        return Some(None);
    }
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim());
    let value: f64 = number.parse().ok().filter(|v: &f64| v.is_finite() && *v > 0.0)?;
    let scale: f64 = match unit {
        "" if value < 1.0 => return Some(Some((available_memory() as f64 * value) as usize)),
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(Some((value * scale) as usize))
}

/// The memory this process may use: the machine's total, or the cgroup's limit when lower
/// (cgroup v2 `memory.max`, then v1 `memory.limit_in_bytes`); 8 GiB when neither is known.
fn available_memory() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| meminfo_total(&s));
    let cgroup = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<usize>().ok()));
    match (total, cgroup) {
        (Some(t), Some(c)) => t.min(c),
        (Some(t), None) => t,
        (None, Some(c)) => c,
        (None, None) => 8 << 30,
    }
}

/// `MemTotal` from `/proc/meminfo`'s text, in bytes.
fn meminfo_total(text: &str) -> Option<usize> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_like_dask() {
        assert_eq!(parse_limit("512MiB"), Some(Some(512 << 20)));
        assert_eq!(parse_limit(" 2 GB "), Some(Some(2_000_000_000)));
        assert_eq!(parse_limit("1.5gib"), Some(Some(3 << 29)));
        assert_eq!(parse_limit("4096"), Some(Some(4096)));
        assert_eq!(parse_limit("64kB"), Some(Some(64_000)));
        assert_eq!(parse_limit("off"), Some(None));
        assert_eq!(parse_limit("0"), Some(None));
        let half = parse_limit("0.5").unwrap().unwrap();
        assert!(half > 0 && half <= available_memory());
        for bad in ["", "lots", "12 parsecs", "-1GB", "nan", "1e3"] {
            assert_eq!(parse_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn thresholds_and_defaults() {
        let b = MemoryBudget::new(1000).with_spill_dir("/tmp/x");
        assert_eq!((b.spill_down_to(), b.spill_above(), b.pause_above()), (500, 600, 750));
        assert_eq!(b.spill_dir, Some(PathBuf::from("/tmp/x")));
        let d = MemoryBudget::system_default();
        assert!(d.limit > 0 && d.spill_dir.is_none());
        assert_eq!(meminfo_total("MemTotal:       1024 kB\nMemFree: 1 kB\n"), Some(1 << 20));
        assert_eq!(meminfo_total("nothing"), None);
    }
}

//! Blocks made outside kiln's IR: the source behind `from_delayed_chunks`, whose blocks are
//! computed by user code (a delayed call per block) when their tasks run. The node declares
//! its dtype and chunking up front; each block's value is checked against them.
//!
//! Unlike the other sources, a block is a function of its index in the node's own chunk
//! grid, not of element positions: no rule may slice into it or re-cut it directly (a slice
//! or rechunk of it reads its blocks), and its blocks are never dropped and made again.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::chunk::Chunk;
use crate::chunks::ChunkGrid;
use crate::dtype::DType;
use crate::token::Token;

/// Makes the blocks of an [`ExternalBlocks`] source.
pub trait BlockProducer: Send + Sync + 'static {
    /// Block `index` (its C-order position in the source's chunk grid); an error message
    /// naming what failed otherwise. Must not panic (the runtime catches panics anyway).
    fn block(&self, index: u64) -> Result<Chunk, String>;
}

/// A source whose blocks a [`BlockProducer`] makes. Compared and hashed by its token.
#[derive(Clone)]
pub struct ExternalBlocks {
    /// What made it, for keys and messages (`from_delayed`).
    pub name: String,
    /// Identifies the source (a hash of what its blocks are made from).
    pub token: Token,
    /// The blocks' dtype.
    pub dtype: DType,
    /// The blocks' chunking: block `i` has the shape of block `i` of this grid.
    pub grid: ChunkGrid,
    /// Makes the blocks.
    pub producer: Arc<dyn BlockProducer>,
}

impl ExternalBlocks {
    /// Block `index`, checked against the declared dtype and block shape.
    pub fn block(&self, index: u64) -> Result<Chunk, String> {
        let chunk = self.producer.block(index)?;
        let expected = self.grid.block_shape(&self.grid.unravel(index));
        if chunk.dtype() != self.dtype || chunk.shape() != expected.as_slice() {
            return Err(format!(
                "{} block {index} is {} of shape {:?}; its chunks declare {} of shape {expected:?}",
                self.name,
                chunk.dtype(),
                chunk.shape(),
                self.dtype
            ));
        }
        Ok(chunk)
    }
}

impl PartialEq for ExternalBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

impl Eq for ExternalBlocks {}

impl Hash for ExternalBlocks {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.token.hash(state);
    }
}

impl fmt::Debug for ExternalBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExternalBlocks({}-{}, {} {})", self.name, self.token.short(), self.dtype, self.grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::AxisChunks;

    struct Ramp;

    impl BlockProducer for Ramp {
        fn block(&self, index: u64) -> Result<Chunk, String> {
            let n = if index == 2 { 5 } else { 2 };
            Ok(Chunk::new(ndarray::ArrayD::from_elem(vec![n], index as f64)))
        }
    }

    #[test]
    fn blocks_are_checked_against_the_declared_chunks() {
        let grid = ChunkGrid::new(vec![AxisChunks::from_lengths(&[2, 2, 2])]);
        let src =
            ExternalBlocks { name: "test".into(), token: Token(7), dtype: DType::F64, grid, producer: Arc::new(Ramp) };
        assert_eq!(src.block(1).unwrap().shape(), &[2]);
        let err = src.block(2).unwrap_err();
        assert_eq!(err, "test block 2 is f64 of shape [5]; its chunks declare f64 of shape [2]");
        assert_eq!(src, src.clone());
    }
}

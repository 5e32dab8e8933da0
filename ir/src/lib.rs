//! kiln's intermediate representations: element types and promotion, shapes, chunk grids,
//! the collection-level expression DAG (`Expr`) with its checked builders, the lowered
//! `TaskGraph`, the values tasks pass around, and the text form of each.
//!
//! This crate depends on no other kiln crate.

pub mod build;
pub mod chunk;
pub mod chunk_io;
pub mod chunks;
pub mod dot;
pub mod dtype;
pub mod element;
pub mod error;
pub mod expr;
pub mod expr_text;
pub mod external;
pub mod kernel;
pub mod npy;
pub mod op;
pub mod scalar;
pub mod shape;
pub mod slice;
pub mod task_graph;
pub mod token;
pub mod value;

pub use chunk::Chunk;
pub use chunks::{AxisChunks, ChunkAxis, ChunkGrid, Chunks};
pub use dtype::{DType, ScalarKind};
pub use element::Element;
pub use error::{Error, Result};
pub use expr::{Expr, Meta};
pub use external::{BlockProducer, ExternalBlocks};
pub use kernel::{Inst, Kernel, KernelInput, KernelOutput, ValueId};
pub use op::{BinaryOp, Distribution, Op, ReduceOp, SourceArray, UnaryOp};
pub use scalar::{F64Bits, Scalar};
pub use shape::Shape;
pub use slice::{AxisPiece, AxisSlice, SliceElem, SliceSpec};
pub use task_graph::{
    GraphNode, GraphOutput, GraphStats, NodeAux, NodeId, ReduceLayout, Task, TaskGraph, TaskGraphBuilder, TaskId,
    TaskKey, TaskKind,
};
pub use token::Token;
pub use value::{SpillCodec, Value};

//! Array shapes (`Shape`) and NumPy broadcasting of shapes.

use std::fmt;
use std::ops::Deref;

use crate::error::{Error, Result};

/// The length of each axis of an array. `()` is a 0-d (scalar) array.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Box<[usize]>);

impl Shape {
    /// A shape from axis lengths.
    pub fn new(dims: impl Into<Box<[usize]>>) -> Shape {
        Shape(dims.into())
    }

    /// The 0-d shape `()`.
    pub fn scalar() -> Shape {
        Shape(Box::new([]))
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a 0-d shape). Saturates instead of overflowing.
    pub fn size(&self) -> usize {
        self.0.iter().fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// The axis lengths.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// NumPy broadcasting of two shapes: align trailing axes; lengths must match or be 1.
    /// `op` names the operation for the error message.
    pub fn broadcast(op: &str, a: &Shape, b: &Shape) -> Result<Shape> {
        let ndim = a.ndim().max(b.ndim());
        let mut out = vec![0; ndim];
        for (k, o) in out.iter_mut().enumerate() {
            let da = dim_from_end(a, ndim - 1 - k);
            let db = dim_from_end(b, ndim - 1 - k);
            *o = match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => {
                    return Err(Error::invalid(
                        op,
                        format!("operands could not be broadcast together with shapes {a} and {b}"),
                    ));
                }
            };
        }
        Ok(Shape::new(out))
    }
}

/// Length of the axis `k` places from the end, or 1 past the front (broadcast padding).
fn dim_from_end(s: &Shape, k: usize) -> usize {
    if k < s.ndim() { s.0[s.ndim() - 1 - k] } else { 1 }
}

impl Deref for Shape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(Box::new(v))
    }
}
impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(v.into())
    }
}
impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v.into())
    }
}
impl From<&Vec<usize>> for Shape {
    fn from(v: &Vec<usize>) -> Self {
        Shape(v.as_slice().into())
    }
}
impl From<&Shape> for Shape {
    fn from(v: &Shape) -> Self {
        v.clone()
    }
}

impl fmt::Display for Shape {
    /// Python's tuple form: `()`, `(3,)`, `(3, 4)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let s = |v: &[usize]| Shape::from(v);
        assert_eq!(Shape::broadcast("add", &s(&[3, 1]), &s(&[4])).unwrap(), s(&[3, 4]));
        assert_eq!(Shape::broadcast("add", &s(&[]), &s(&[2, 5])).unwrap(), s(&[2, 5]));
        assert_eq!(Shape::broadcast("add", &s(&[0, 1]), &s(&[1, 7])).unwrap(), s(&[0, 7]));
        let err = Shape::broadcast("add", &s(&[3]), &s(&[4])).unwrap_err();
        assert_eq!(err.to_string(), "add: operands could not be broadcast together with shapes (3,) and (4,)");
    }

    #[test]
    fn display_is_pythonic() {
        assert_eq!(Shape::scalar().to_string(), "()");
        assert_eq!(Shape::from([3]).to_string(), "(3,)");
        assert_eq!(Shape::from([3, 4]).to_string(), "(3, 4)");
    }
}

//! `.npy` files: `from_npy` reads NumPy's files (every dtype kiln has, both byte orders, C
//! and Fortran order, format versions 1 to 3, empty and 0-d arrays) in any chunking; bad
//! files give errors naming the file; slices are pushed into the read, which reads only the
//! bytes it needs; `to_npy` writes what `np.save` writes, byte for byte.
//!
//! The fixtures in `tests/fixtures/npy/` were written by NumPy (`make.py` regenerates
//! them); each holds `arange`-based values the tests compute independently.

mod common;

use std::path::{Path, PathBuf};

use kiln::array as ka;
use kiln::prelude::*;
use ndarray::{ArrayD, IxDyn};

use common::{chunkings, eval, eval_f64};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy").join(name)
}

/// A fresh path in the temp directory, unique to this process and test.
fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-npy-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The values every good fixture holds (see `make.py`), as `f64`.
fn expected(shape: &[usize], kind: char) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let values = (0..n).map(|i| match kind {
        'b' => f64::from(u8::from(i % 3 == 0)),
        'i' => i as f64 - 7.0,
        _ => i as f64 * 0.5 - 3.25,
    });
    ArrayD::from_shape_vec(IxDyn(shape), values.collect()).unwrap()
}

fn shape_name(shape: &[usize]) -> String {
    if shape.is_empty() { "0d".into() } else { shape.iter().map(usize::to_string).collect::<Vec<_>>().join("x") }
}

/// Every dtype fixture: (kind, bits, dtype).
const DTYPES: [(char, u32, DType); 5] =
    [('b', 8, DType::Bool), ('i', 32, DType::I32), ('i', 64, DType::I64), ('f', 32, DType::F32), ('f', 64, DType::F64)];

#[test]
fn every_dtype_byte_order_and_memory_order_reads_its_values() {
    let mut files = 0;
    for (kind, bits, dtype) in DTYPES {
        let endians: &[&str] = if kind == 'b' { &["le"] } else { &["le", "be"] };
        for endian in endians {
            for shape in [vec![3, 5], vec![2, 3, 4]] {
                for order in ["c", "f"] {
                    let name = format!("{kind}{bits}_{endian}_{order}_{}.npy", shape_name(&shape));
                    for chunks in chunkings(&shape) {
                        let x = ka::from_npy(fixture(&name), chunks.as_slice()).unwrap();
                        assert_eq!((x.dtype(), x.shape()), (dtype, shape.as_slice()), "{name}");
                        let got = eval(&x);
                        assert_eq!(got.dtype(), dtype, "{name}");
                        assert_eq!(
                            got.cast(DType::F64).into_f64().unwrap(),
                            expected(&shape, kind),
                            "{name} {chunks:?}"
                        );
                    }
                    files += 1;
                }
            }
        }
    }
    assert_eq!(files, 36);
}

#[test]
fn format_versions_empty_and_0d_arrays_read() {
    for v in 1..=3 {
        let x = ka::from_npy(fixture(&format!("v{v}_f8.npy")), [3, 2]).unwrap();
        assert_eq!(eval_f64(&x), expected(&[4, 3], 'f'), "version {v}");
    }
    for shape in [vec![], vec![7], vec![0, 4], vec![1, 1]] {
        let name = format!("f64_le_c_{}.npy", shape_name(&shape));
        for chunks in chunkings(&shape) {
            let x = ka::from_npy(fixture(&name), chunks.as_slice()).unwrap();
            assert_eq!(eval_f64(&x), expected(&shape, 'f'), "{name} {chunks:?}");
        }
    }
    let scalar: f64 =
        ka::from_npy(fixture("f64_le_c_0d.npy"), Chunks::auto()).unwrap().compute().unwrap().into_scalar().unwrap();
    assert_eq!(scalar, -3.25);
}

#[test]
fn fortran_and_big_endian_files_compute_like_any_array() {
    let x = ka::from_npy(fixture("f64_be_f_2x3x4.npy"), [1, 2, 3]).unwrap();
    let want = expected(&[2, 3, 4], 'f');
    let got = eval_f64(&(&x.slice(s![.., 1.., ..;-2]) * 2.0).sum_axis(Axis(2)));
    let want = (want.slice(ndarray::s![.., 1.., ..;-2]).to_owned() * 2.0).sum_axis(ndarray::Axis(2)).into_dyn();
    common::assert_close(&got, &want, 0.0);
    let t = eval_f64(&x.t());
    assert_eq!(t, expected(&[2, 3, 4], 'f').t().to_owned());
}

#[test]
fn bad_files_are_errors_naming_the_file_and_the_problem() {
    let cases = [
        ("bad_truncated.npy", "truncated"),
        ("bad_header_cut.npy", "truncated"),
        ("bad_magic.npy", "magic"),
        ("bad_u16.npy", "'<u2'"),
        ("bad_complex.npy", "'<c16'"),
        ("bad_structured.npy", "structured"),
        ("no_such_file.npy", "No such file"),
    ];
    for (name, what) in cases {
        let err = ka::from_npy(fixture(name), [2]).err().unwrap_or_else(|| panic!("{name} was accepted")).to_string();
        assert!(err.starts_with("from_npy: ") && err.contains(name) && err.contains(what), "{name}: {err}");
    }
}

#[test]
fn to_npy_writes_what_numpy_writes() {
    // The same values NumPy saved: kiln's file must be byte-for-byte NumPy's.
    for (kind, bits, dtype) in DTYPES {
        let name = format!("{kind}{bits}_le_c_3x5.npy");
        let x = ka::from_array(expected(&[3, 5], kind), [2, 2]).astype(dtype);
        let out = temp(&format!("numpy-{name}"));
        x.to_npy(&out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(fixture(&name)).unwrap(), "{name}");
    }
    for shape in [vec![], vec![7], vec![0, 4], vec![1, 1]] {
        let name = format!("f64_le_c_{}.npy", shape_name(&shape));
        for chunks in chunkings(&shape) {
            let out = temp(&format!("numpy-{name}"));
            ka::from_array(expected(&shape, 'f'), chunks.as_slice()).to_npy(&out).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(fixture(&name)).unwrap(), "{name} {chunks:?}");
        }
    }
}

#[test]
fn every_dtype_round_trips_in_odd_chunkings() {
    for (kind, _, dtype) in DTYPES {
        for shape in [vec![5, 7], vec![3, 1, 4], vec![0, 3], vec![]] {
            let want = expected(&shape, kind);
            for chunks in chunkings(&shape) {
                let out = temp(&format!("round-trip-{}-{}.npy", dtype, shape_name(&shape)));
                ka::from_array(want.clone(), chunks.as_slice()).astype(dtype).to_npy(&out).unwrap();
                let back = ka::from_npy(&out, chunks.iter().map(|&c| c + 1).collect::<Vec<_>>().as_slice()).unwrap();
                assert_eq!(back.dtype(), dtype);
                assert_eq!(eval_f64(&back), want, "{dtype} {shape:?} {chunks:?}");
            }
        }
    }
}

/// Reads a little-endian C-order `f64` `.npy` file without kiln: the header's shape by plain
/// string search, the data as 8-byte words.
fn read_f64_independently(path: &Path) -> ArrayD<f64> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"), "{header}");
    let dims = &header[header.find("'shape': (").unwrap() + 10..];
    let dims = &dims[..dims.find(')').unwrap()];
    let shape: Vec<usize> =
        dims.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse().unwrap()).collect();
    let data = &bytes[10 + header_len..];
    let values: Vec<f64> = data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

#[test]
fn centred_array_is_stored_back_and_read_independently() {
    let input = temp("centre-input.npy");
    let data = common::data(&[37, 23], 5);
    ka::from_array(data.clone(), [37, 23]).to_npy(&input).unwrap();
    let x = ka::from_npy(&input, [10, 7]).unwrap();
    let centred = &x - &x.mean_axis(Axis(0));
    let output = temp("centre-output.npy");
    for cfg in common::configs() {
        centred.to_npy_with(&output, &cfg).unwrap();
        let want = &data - &data.mean_axis(ndarray::Axis(0)).unwrap();
        common::assert_close(&read_f64_independently(&output), &want, 1e-12);
    }
    // Writing over the file the array reads is refused before anything is touched.
    let err = centred.to_npy(&input).unwrap_err().to_string();
    assert!(err.contains("centre-input.npy") && err.contains("reads this file"), "{err}");
    assert_eq!(read_f64_independently(&input), data);
    // A path that cannot be created names itself.
    let err = centred.to_npy(temp("no/such/dir.npy")).unwrap_err().to_string();
    assert!(err.starts_with("to_npy: ") && err.contains("dir.npy"), "{err}");
}

#[test]
fn slices_read_only_the_bytes_they_need() {
    let path = temp("pushdown.npy");
    ka::from_array(expected(&[100, 20], 'f'), [100, 20]).to_npy(&path).unwrap();
    let x = ka::from_npy(&path, [50, 20]).unwrap();
    let top = x.slice(s![..10, ..]).sum();
    let want: f64 = expected(&[100, 20], 'f').slice(ndarray::s![..10, ..]).sum();
    let read = |cfg: Config| {
        let before = ka::npy_bytes_read(&path);
        let v: f64 = top.compute_with(&cfg).unwrap().into_scalar().unwrap();
        assert_eq!(v, want);
        ka::npy_bytes_read(&path) - before
    };
    // Optimized, the slice is pushed into the read: 10 rows of 20 f64. An unoptimized run
    // runs every lowered task (no cull either), so it reads both 50-row blocks.
    assert_eq!(read(Config::default()), 10 * 20 * 8);
    assert_eq!(read(Config::default().with_optimize(false)), 100 * 20 * 8);
    // Without the optimizer's rewrites (which push the slice), cull still skips the second
    // block, but the first is read whole and then sliced.
    assert_eq!(read(Config::default().without_pass("simplify")), 50 * 20 * 8);
    let plan = top.explain();
    assert!(plan.contains("from_npy(file=pushdown.npy, view=@0 [20, 1] of (100, 20))"), "{plan}");
    // A column of a Fortran-order file is one contiguous run on disk. (A copy of the
    // fixture, so other tests reading it do not change the count.)
    let fortran = temp("fortran-copy.npy");
    std::fs::copy(fixture("f64_le_f_3x5.npy"), &fortran).unwrap();
    let f = ka::from_npy(&fortran, [3, 5]).unwrap();
    let before = ka::npy_bytes_read(&fortran);
    let col = eval_f64(&f.slice(s![.., 3]));
    assert_eq!(col, expected(&[3, 5], 'f').slice(ndarray::s![.., 3]).to_owned().into_dyn());
    // eval computes under three settings; one of them does not optimize and reads it all.
    assert_eq!(ka::npy_bytes_read(&fortran) - before, (3 + 3 + 15) * 8);
}

#[test]
fn explain_of_an_npy_pipeline() {
    let x = ka::from_npy(fixture("f64_le_f_2x3x4.npy"), [1, 3, 2]).unwrap();
    let y = (&x - &x.mean_axis(Axis(0))).slice(s![.., 1.., ..]).sum_axis(Axis(1));
    insta::assert_snapshot!("npy_pipeline", y.explain());
}

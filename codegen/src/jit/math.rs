//! The polynomial `exp`, `ln`, `sin`, `cos`, `tanh` and `pow` of `crate::math`, emitted inline on
//! one `f64` or two lanes: the same IEEE operations in the same order as the Rust reference,
//! so the results are its bits. The fast path is branch-free; lanes outside its domain are
//! collected in a mask, and if any lane is set, one branch goes to a cold block that calls
//! the reference (`kiln_sin_f64` etc., which returns libm's result there and the fast path's
//! bits elsewhere) for each lane.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, InstBuilder, Value};
use cranelift_module::Module;

use kiln_ir::UnaryOp;

use crate::error::{Error, Result};
use crate::jit::emit::Emit;
use crate::jit::host;
use crate::jit::lanes::Lanes;
use crate::jit::vector::{LaneType, per_lane};
use crate::math::{
    ATANH_COEFFS, COS_COEFFS, EXP_HI, EXP_LO, EXPM1_COEFFS, HEAD, INV_LN2, INV_PIO2, LG, LN_OFFSET, LN2_HI, LN2_LO,
    MAX_CANCELLED_BITS, PIO2_1, PIO2_1T, SIN_COEFFS, SIN_TINY, SQRT_HALF_HIGH, TANH_CLAMP, TANH_COEFFS, TANH_SMALL,
    TO_INT, TRIG_LIMIT, TWO_THIRDS, TWO_THIRDS_HI, TWO_THIRDS_LO,
};

/// The sign bit.
const SIGN: u64 = 1 << 63;

/// `op(x)` (an op `crate::math::covers`) for `x` an `F64`, or an `F64X2` when `vector`.
pub(super) fn emit<M: Module>(e: &mut Emit<'_, '_, M>, op: UnaryOp, x: Value, vector: bool) -> Result<Value> {
    let name = host::unary_symbol(op, true).ok_or_else(|| Error::Internal(format!("jit: no {} helper", op.name())))?;
    let mut l = Lanes { e, vector };
    let (fast, fallback) = match op {
        UnaryOp::Exp => exp(&mut l, x),
        UnaryOp::Ln => ln(&mut l, x),
        UnaryOp::Sin => sin_cos(&mut l, x, true),
        UnaryOp::Cos => sin_cos(&mut l, x, false),
        UnaryOp::Tanh => tanh(&mut l, x),
        _ => return Err(Error::Internal(format!("jit: no polynomial {}", op.name()))),
    };
    or_else_call(l, fast, fallback, name, &[x])
}

/// `math::pow(x, y)` for `x`, `y` `F64`s, or `F64X2`s when `vector`.
pub(super) fn emit_pow<M: Module>(e: &mut Emit<'_, '_, M>, x: Value, y: Value, vector: bool) -> Result<Value> {
    let mut l = Lanes { e, vector };
    let (fast, fallback) = pow(&mut l, x, y);
    or_else_call(l, fast, fallback, "kiln_pow_f64", &[x, y])
}

/// `fast`, unless a lane of `fallback` is set: then one branch goes to a cold block that
/// calls host function `name` on `args` (lane by lane).
fn or_else_call<M: Module>(
    mut l: Lanes<'_, '_, '_, M>,
    fast: Value,
    fallback: Value,
    name: &'static str,
    args: &[Value],
) -> Result<Value> {
    let any = l.any(fallback);
    let float_ty = l.float_ty();
    let b = &mut *l.e.b;
    let (slow, join) = (b.create_block(), b.create_block());
    b.append_block_param(join, float_ty);
    b.ins().brif(any, slow, &[], join, &[BlockArg::Value(fast)]);
    b.set_cold_block(slow);
    b.switch_to_block(slow);
    let r = if l.vector { per_lane(l.e, LaneType::F64X2, name, args)? } else { l.e.call(name, args)? };
    let b = &mut *l.e.b;
    b.ins().jump(join, &[BlockArg::Value(r)]);
    b.switch_to_block(join);
    Ok(b.block_params(join)[0])
}

/// `c[0] + x * (c[1] + x * (... + x * c[n]))` in the reference's order: `x * c[n]` first,
/// then alternately adding the next coefficient down and multiplying by `x`.
fn horner<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value, c: &[f64]) -> Value {
    let (&last, rest) = c.split_last().expect("a polynomial has a coefficient");
    let mut a = l.mul_c(x, last);
    for (k, &ck) in rest.iter().enumerate().rev() {
        a = l.add_c(ck, a);
        if k > 0 {
            a = l.mul(x, a);
        }
    }
    a
}

/// `round_to_int`: `v` rounded to an integer, as a float and as an integer.
fn round_to_int<M: Module>(l: &mut Lanes<'_, '_, '_, M>, v: Value) -> (Value, Value) {
    let t = l.add_c(TO_INT, v);
    let to_int = l.f(TO_INT);
    let kf = l.sub(t, to_int);
    let tb = l.bits(t);
    let base = l.i(TO_INT.to_bits());
    (kf, l.isub(tb, base))
}

/// `exp::reduce`: `e^r - 1` and `2^k` for `x = k ln 2 + r`.
fn reduce_exp<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let scaled = l.mul_c(x, INV_LN2);
    let (kf, k) = round_to_int(l, scaled);
    let khi = l.mul_c(kf, LN2_HI);
    let hi = l.sub(x, khi);
    let lo = l.mul_c(kf, LN2_LO);
    let r = l.sub(hi, lo);
    (expm1_reduced(l, r), scale(l, k))
}

/// `exp::expm1_reduced`: `e^r - 1` by the Taylor polynomial.
fn expm1_reduced<M: Module>(l: &mut Lanes<'_, '_, '_, M>, r: Value) -> Value {
    let mut q = l.f(EXPM1_COEFFS[11]);
    for c in EXPM1_COEFFS[..11].iter().rev() {
        let rq = l.mul(r, q);
        q = l.add_c(*c, rq);
    }
    let r2 = l.mul(r, r);
    let r2q = l.mul(r2, q);
    l.add(r, r2q)
}

/// `exp::scale`: `2^k` from the integer `k`.
fn scale<M: Module>(l: &mut Lanes<'_, '_, '_, M>, k: Value) -> Value {
    let biased = l.iadd_c(k, 1023);
    let scale_bits = l.shl(biased, 52);
    l.float(scale_bits)
}

/// `exp`: the fast result and the fallback condition.
fn exp<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let (p, scale) = reduce_exp(l, x);
    let one_p = l.add_c(1.0, p);
    let fast = l.mul(one_p, scale);
    let high = l.fcmp_c(FloatCC::UnorderedOrGreaterThanOrEqual, x, EXP_HI);
    let low = l.fcmp_c(FloatCC::UnorderedOrLessThanOrEqual, x, EXP_LO);
    (fast, l.or(high, low))
}

/// `ln::split_mantissa`: `m` and `k` (an `f64`) of `x = 2^k m`.
fn split_mantissa<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let xb = l.bits(x);
    let ix = l.iadd_c(xb, LN_OFFSET);
    let mant = l.and_c(ix, (1 << 52) - 1);
    let mb = l.iadd_c(mant, SQRT_HALF_HIGH);
    let m = l.float(mb);
    let e = l.ushr(ix, 52);
    let eb = l.iadd_c(e, TO_INT.to_bits());
    let ef = l.float(eb);
    let bias = l.f(TO_INT + 1023.0);
    (m, l.sub(ef, bias))
}

/// `ln`: the fast result and the fallback condition.
fn ln<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let (m, dk) = split_mantissa(l, x);
    let one = l.f(1.0);
    let f = l.sub(m, one);
    let half_f = l.mul_c(f, 0.5);
    let hfsq = l.mul(half_f, f);
    let two_f = l.add_c(2.0, f);
    let s = l.div(f, two_f);
    let z = l.mul(s, s);
    let w = l.mul(z, z);
    // t1 = w * (LG1 + w * (LG3 + w * LG5)).
    let a = horner(l, w, &[LG[1], LG[3], LG[5]]);
    let t1 = l.mul(w, a);
    // t2 = z * (LG0 + w * (LG2 + w * (LG4 + w * LG6))).
    let c = horner(l, w, &[LG[0], LG[2], LG[4], LG[6]]);
    let t2 = l.mul(z, c);
    let r = l.add(t2, t1);
    // dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f).
    let hr = l.add(hfsq, r);
    let shr = l.mul(s, hr);
    let klo = l.mul_c(dk, LN2_LO);
    let inner = l.add(shr, klo);
    let inner = l.sub(hfsq, inner);
    let inner = l.sub(inner, f);
    let khi = l.mul_c(dk, LN2_HI);
    let fast = l.sub(khi, inner);
    let small = l.fcmp_c(FloatCC::UnorderedOrLessThan, x, f64::MIN_POSITIVE);
    let big = l.fcmp_c(FloatCC::UnorderedOrGreaterThan, x, f64::MAX);
    (fast, l.or(small, big))
}

/// `trig::kernel_sin(y, t)`.
fn kernel_sin<M: Module>(l: &mut Lanes<'_, '_, '_, M>, y: Value, t: Value) -> Value {
    let s = SIN_COEFFS;
    let z = l.mul(y, y);
    let w = l.mul(z, z);
    // r = s1 + z * (s2 + z * s3) + z * w * (s4 + z * s5).
    let a = horner(l, z, &s[1..4]);
    let zw = l.mul(z, w);
    let b = horner(l, z, &s[4..6]);
    let b = l.mul(zw, b);
    let r = l.add(a, b);
    let v = l.mul(z, y);
    // y - ((z * (0.5 * t - v * r) - t) - v * s0).
    let half = l.f(0.5);
    let ht = l.mul(half, t);
    let vr = l.mul(v, r);
    let d = l.sub(ht, vr);
    let d = l.mul(z, d);
    let d = l.sub(d, t);
    let vs = l.mul_c(v, s[0]);
    let d = l.sub(d, vs);
    l.sub(y, d)
}

/// `trig::kernel_cos(y, t)`.
fn kernel_cos<M: Module>(l: &mut Lanes<'_, '_, '_, M>, y: Value, t: Value) -> Value {
    let c = COS_COEFFS;
    let z = l.mul(y, y);
    let w = l.mul(z, z);
    // r = z * (c0 + z * (c1 + z * c2)) + w * w * (c3 + z * (c4 + z * c5)).
    let a = horner(l, z, &c[0..3]);
    let a = l.mul(z, a);
    let ww = l.mul(w, w);
    let b = horner(l, z, &c[3..6]);
    let b = l.mul(ww, b);
    let r = l.add(a, b);
    // hz = 0.5 * z; w = 1 - hz; w + (((1 - w) - hz) + (z * r - y * t)).
    let half = l.f(0.5);
    let hz = l.mul(half, z);
    let one = l.f(1.0);
    let w = l.sub(one, hz);
    let d = l.sub(one, w);
    let d = l.sub(d, hz);
    let zr = l.mul(z, r);
    let yt = l.mul(y, t);
    let e = l.sub(zr, yt);
    let d = l.add(d, e);
    l.add(w, d)
}

/// `trig::sin` (`is_sin`) or `trig::cos`: the fast result and the fallback condition.
fn sin_cos<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value, is_sin: bool) -> (Value, Value) {
    let scaled = l.mul_c(x, INV_PIO2);
    let (fnv, n) = round_to_int(l, scaled);
    let p1 = l.mul_c(fnv, PIO2_1);
    let r = l.sub(x, p1);
    let w = l.mul_c(fnv, PIO2_1T);
    let y0 = l.sub(r, w);
    let d = l.sub(r, y0);
    let y1 = l.sub(d, w);
    let xb = l.bits(x);
    let ex = l.ushr(xb, 52);
    let ex = l.and_c(ex, 0x7ff);
    let yb = l.bits(y0);
    let ey = l.ushr(yb, 52);
    let ey = l.and_c(ey, 0x7ff);
    let lost = l.isub(ex, ey);
    let cancelled = l.icmp_c(IntCC::SignedGreaterThan, lost, MAX_CANCELLED_BITS as u64);
    let ax = l.abs(x);
    let big = l.fcmp_c(FloatCC::UnorderedOrGreaterThanOrEqual, ax, TRIG_LIMIT);
    let fallback = l.or(big, cancelled);
    let s = kernel_sin(l, y0, y1);
    let c = kernel_cos(l, y0, y1);
    let odd = l.and_c(n, 1);
    let even = l.icmp_c(IntCC::Equal, odd, 0);
    let (v, q) = if is_sin { (l.select(even, s, c), n) } else { (l.select(even, c, s), l.iadd_c(n, 1)) };
    let q2 = l.and_c(q, 2);
    let sign = l.shl(q2, 62);
    let vb = l.bits(v);
    let flipped = l.xor(vb, sign);
    let mut fast = l.float(flipped);
    if is_sin {
        let tiny = l.fcmp_c(FloatCC::LessThan, ax, SIN_TINY);
        fast = l.select(tiny, x, fast);
    }
    (fast, fallback)
}

/// `tanh`: the fast result and the fallback condition.
fn tanh<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let ax = l.abs(x);
    let over = l.fcmp_c(FloatCC::GreaterThan, ax, TANH_CLAMP);
    let clamp = l.f(TANH_CLAMP);
    let a = l.select(over, clamp, ax);
    let z = l.mul(a, a);
    let mut g = l.f(TANH_COEFFS[0]);
    for c in &TANH_COEFFS[1..] {
        let gz = l.mul(g, z);
        let c = l.f(*c);
        g = l.add(gz, c);
    }
    let zg = l.mul(z, g);
    let azg = l.mul(a, zg);
    let small = l.add(a, azg);
    let a2 = l.add(a, a);
    let (p, scale) = reduce_exp(l, a2);
    let one_p = l.add_c(1.0, p);
    let u = l.mul(one_p, scale);
    let u1 = l.add_c(1.0, u);
    let two = l.f(2.0);
    let q = l.div(two, u1);
    let one = l.f(1.0);
    let large = l.sub(one, q);
    let is_small = l.fcmp_c(FloatCC::LessThan, a, TANH_SMALL);
    let v = l.select(is_small, small, large);
    let vb = l.bits(v);
    let xb = l.bits(x);
    let sign = l.and_c(xb, SIGN);
    let with_sign = l.or(vb, sign);
    let fast = l.float(with_sign);
    let nan = l.e.b.ins().fcmp(FloatCC::Unordered, x, x);
    (fast, nan)
}

/// `x` cut to its 21-bit head (`pow::head`).
fn head<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> Value {
    let xb = l.bits(x);
    let hb = l.and_c(xb, HEAD);
    l.float(hb)
}

/// `pow::ln_parts`: `ln x` as a 21-bit head and a tail.
fn ln_parts<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value) -> (Value, Value) {
    let (m, dk) = split_mantissa(l, x);
    let one = l.f(1.0);
    let f = l.sub(m, one);
    let d = l.add_c(1.0, m);
    let inv = l.div(one, d);
    let ss = l.mul(f, inv);
    let s_h = head(l, ss);
    let d_h = head(l, d);
    let d_h1 = l.sub(d_h, one);
    let d_l = l.sub(m, d_h1);
    // s_l = ((f - s_h * d_h) - s_h * d_l) * inv.
    let shdh = l.mul(s_h, d_h);
    let num = l.sub(f, shdh);
    let shdl = l.mul(s_h, d_l);
    let num = l.sub(num, shdl);
    let s_l = l.mul(num, inv);
    // r = (w * w) * q + s_l * (s_h + ss), q the atanh tail's polynomial in w = ss².
    let w = l.mul(ss, ss);
    let mut q = l.f(ATANH_COEFFS[10]);
    for c in ATANH_COEFFS[..10].iter().rev() {
        let wq = l.mul(w, q);
        q = l.add_c(*c, wq);
    }
    let ww = l.mul(w, w);
    let wwq = l.mul(ww, q);
    let sum_s = l.add(s_h, ss);
    let cross = l.mul(s_l, sum_s);
    let r = l.add(wwq, cross);
    // t_h = head((3 + s2) + r), t_l = r - ((t_h - 3) - s2).
    let s2 = l.mul(s_h, s_h);
    let three_s2 = l.add_c(3.0, s2);
    let t = l.add(three_s2, r);
    let t_h = head(l, t);
    let three = l.f(3.0);
    let t3 = l.sub(t_h, three);
    let t3 = l.sub(t3, s2);
    let t_l = l.sub(r, t3);
    // u + v = s t, cut into p_h + p_l.
    let u = l.mul(s_h, t_h);
    let slth = l.mul(s_l, t_h);
    let tlss = l.mul(t_l, ss);
    let v = l.add(slth, tlss);
    let uv = l.add(u, v);
    let p_h = head(l, uv);
    let back = l.sub(p_h, u);
    let p_l = l.sub(v, back);
    // ln m = z_h + z_l.
    let z_h = l.mul_c(p_h, TWO_THIRDS_HI);
    let zl1 = l.mul_c(p_h, TWO_THIRDS_LO);
    let zl2 = l.mul_c(p_l, TWO_THIRDS);
    let z_l = l.add(zl1, zl2);
    // ln x = k ln 2 + ln m, the head sum's error joining the tail.
    let a = l.mul_c(dk, LN2_HI);
    let sum = l.add(a, z_h);
    let back = l.sub(sum, a);
    let e1 = l.sub(sum, back);
    let e1 = l.sub(a, e1);
    let e2 = l.sub(z_h, back);
    let err = l.add(e1, e2);
    let klo = l.mul_c(dk, LN2_LO);
    let tail = l.add(z_l, klo);
    let lo = l.add(err, tail);
    let total = l.add(sum, lo);
    let l_h = head(l, total);
    let moved = l.sub(l_h, sum);
    (l_h, l.sub(lo, moved))
}

/// `pow`: the fast result and the fallback condition (`pow::pow_fast`).
fn pow<M: Module>(l: &mut Lanes<'_, '_, '_, M>, x: Value, y: Value) -> (Value, Value) {
    let (l_h, l_l) = ln_parts(l, x);
    let y_h = head(l, y);
    let y_t = l.sub(y, y_h);
    let p_h = l.mul(y_h, l_h);
    let ytlh = l.mul(y_t, l_h);
    let yll = l.mul(y, l_l);
    let p_l = l.add(ytlh, yll);
    let z = l.add(p_h, p_l);
    let scaled = l.mul_c(z, INV_LN2);
    let (kf, k) = round_to_int(l, scaled);
    let khi = l.mul_c(kf, LN2_HI);
    let hi = l.sub(p_h, khi);
    let klo = l.mul_c(kf, LN2_LO);
    let lo = l.sub(klo, p_l);
    let r = l.sub(hi, lo);
    let p = expm1_reduced(l, r);
    let s = scale(l, k);
    let one_p = l.add_c(1.0, p);
    let fast = l.mul(one_p, s);
    let small = l.fcmp_c(FloatCC::UnorderedOrLessThan, x, f64::MIN_POSITIVE);
    let big = l.fcmp_c(FloatCC::UnorderedOrGreaterThan, x, f64::MAX);
    let high = l.fcmp_c(FloatCC::UnorderedOrGreaterThanOrEqual, z, EXP_HI);
    let low = l.fcmp_c(FloatCC::UnorderedOrLessThanOrEqual, z, EXP_LO);
    let off_x = l.or(small, big);
    let off_z = l.or(high, low);
    (fast, l.or(off_x, off_z))
}

// softmax-backward on the GPU: gradIn = y * (g - d), d = sum(y*g) / sum(y) per row, bit-identical to the
// Java reference backend (core: ReferenceBackend, CanonicalSum, RowNumerics).
//
// Compiled to PTX for compute_75 by cuda-backend/scripts/build-ptx.sh with -fmad=false; the PTX is
// committed as a resource and loaded through the driver's JIT by the Java host code (CudaRuntime).
// Every floating-point step that matters is also written with an explicit round-to-nearest intrinsic
// (__dadd_rn, __dmul_rn, __ddiv_rn, __fma_rn, __double2float_rn), so the bits do not depend on
// contraction or on compiler flags.
//
// The canonical order (docs/contract.md §4), which every variant below follows exactly:
//  - a row is cut into segments of 4096 entries (the last one shorter);
//  - in a segment, entry k belongs to lane k % 32, and each lane adds its entries' terms in increasing
//    index order starting from +0.0 (lane_sum);
//  - the 32 lane partials are reduced by the shfl_down tree, off = 16, 8, 4, 2, 1 (warp_tree);
//  - the segment sums are reduced by the pairwise tree over the segment index (segment_tree).
// A warp therefore always works on whole segments, and any split of a row across warps and blocks in
// whole segments gives the same bits. The 16-byte vector loads of the block variant stage the row in
// shared memory first, so the lanes still read entries l, l+32, l+64, ... in order.
//
// Kernel families (the Java LaunchPlanner chooses one per call; names are <family>_<dtype>):
//  sb_warp_<dt>_p<P>   one warp per row, cols <= 32*P, the row held in registers (P entries per lane)
//  sb_block_<dt>       one block per row, the row staged in shared memory with 16-byte loads: y and g
//                      are read from global memory once and gradIn written once
//  sb_reread_<dt>      one block per row, too long for shared memory: the sum sweep reads global
//                      memory in the canonical lane order, the output sweep re-reads y and g (from L2)
//  sb_split_partials_<dt>, sb_split_finish_<dt>, sb_split_output_<dt>
//                      few long rows: a row is split across blocks in whole segments; the segment
//                      sums go to a global workspace, one warp per row runs the segment tree and
//                      writes d (after the constant-row rule), then the output sweep runs split again
//  sm_fwd_<dt>         forward softmax, one block per row (exp is fdlibm's: StrictMath.exp's bits)
//  ce_bwd_<dt>         crossEntropyBackward, one block per row
// dtypes: f32, f64, bf16, f16 (bf16/f16 are stored as raw 16-bit patterns).

#include <cstring>

#define SEGMENT 4096
#define LANES 32
#define FULL_MASK 0xffffffffu
#define UNROLL 8

typedef unsigned short u16;
typedef unsigned long long u64;

// ---------------------------------------------------------------------------------------------------
// Rounding a double once to bf16 / fp16 (round to nearest, ties to even), by integer arithmetic, so
// that the result is the one rounding the contract asks for (going through float would round twice).
// EMIN: the smallest normal exponent, P: stored mantissa bits, EMAX: the largest exponent.
// The same algorithm is in HalfFloats.java (tests compare against it).
template <int EMIN, int P, int EMAX, unsigned INF, unsigned QNAN>
__device__ __forceinline__ u16 round_once(double x) {
    u64 b = (u64)__double_as_longlong(x);
    unsigned sign = (unsigned)(b >> 48) & 0x8000u;
    u64 a = b & 0x7fffffffffffffffULL;
    if (a >= 0x7ff0000000000000ULL) {
        return (u16)(sign | (a == 0x7ff0000000000000ULL ? INF : QNAN));
    }
    int e = (int)(a >> 52) - 1023;
    if (e > EMAX) {
        return (u16)(sign | INF);
    }
    if (e < EMIN - P - 2) {
        return (u16)sign;  // below half the smallest subnormal: rounds to zero
    }
    u64 m = (a & 0xfffffffffffffULL) | (1ULL << 52);  // e >= EMIN-P-2 > -1022: a normal double
    int q = (e > EMIN ? e : EMIN) - P;                   // exponent of the result's last bit
    int shift = q - e + 52;                              // 52-P .. 54
    u64 r = m >> shift;
    u64 rem = m & ((1ULL << shift) - 1);
    u64 half = 1ULL << (shift - 1);
    if (rem > half || (rem == half && (r & 1ULL))) {
        r++;
    }
    // Normal: biased exponent (e-EMIN+1) and r's implicit bit add up to ((e-EMIN) << P) + r; a carry
    // out of the mantissa bumps the exponent, up to INF. Subnormal: r itself (2^P is the smallest normal).
    unsigned bits = e >= EMIN ? (unsigned)(((u64)(e - EMIN) << P) + r) : (unsigned)r;
    if (bits > INF) {
        bits = INF;
    }
    return (u16)(sign | bits);
}

// ---------------------------------------------------------------------------------------------------
// Accumulators. Each has zero(), add(term), combine(other) (this = this + other, this first) and
// map(f): a copy with f applied to every component in declaration order, which the warp shuffles use.

struct YG {  // the two inputs of one entry, widened to double
    double y, g;
};

// float64 accumulators for float32 / bf16 / fp16 inputs: term (double)y and (double)y*(double)g (exact)
struct Plain2 {
    double y, yg;
    __device__ __forceinline__ void zero() { y = 0.0; yg = 0.0; }
    __device__ __forceinline__ void add(YG t) {
        y = __dadd_rn(y, t.y);
        yg = __dadd_rn(yg, __dmul_rn(t.y, t.g));
    }
    __device__ __forceinline__ void combine(const Plain2& o) {  // this = this + o, this first
        y = __dadd_rn(y, o.y);
        yg = __dadd_rn(yg, o.yg);
    }
    template <class F>
    __device__ __forceinline__ Plain2 map(const F& f) const { return {f(y), f(yg)}; }
};

// Knuth's TwoSum: s + x = sum + err exactly (no branch, any order of magnitudes).
__device__ __forceinline__ double two_sum(double s, double x, double* err) {
    double sum = __dadd_rn(s, x);
    double v = __dsub_rn(sum, s);
    *err = __dadd_rn(__dsub_rn(s, __dsub_rn(sum, v)), __dsub_rn(x, v));
    return sum;
}

// double-double accumulators for float64 inputs: (s, c), s the plain sum, c the sum of the errors
struct DD2 {
    double sy, cy, syg, cyg;
    __device__ __forceinline__ void zero() { sy = 0.0; cy = 0.0; syg = 0.0; cyg = 0.0; }
    __device__ __forceinline__ void add(YG t) {
        double e;
        sy = two_sum(sy, t.y, &e);
        cy = __dadd_rn(cy, e);
        double p = __dmul_rn(t.y, t.g);
        double q = __fma_rn(t.y, t.g, -p);  // TwoProd: p + q is the exact product
        syg = two_sum(syg, p, &e);
        cyg = __dadd_rn(cyg, __dadd_rn(q, e));
    }
    __device__ __forceinline__ void combine(const DD2& o) {  // (s, e) = TwoSum(s1, s2); c = (c1 + c2) + e
        double e;
        sy = two_sum(sy, o.sy, &e);
        cy = __dadd_rn(__dadd_rn(cy, o.cy), e);
        syg = two_sum(syg, o.syg, &e);
        cyg = __dadd_rn(__dadd_rn(cyg, o.cyg), e);
    }
    template <class F>
    __device__ __forceinline__ DD2 map(const F& f) const { return {f(sy), f(cy), f(syg), f(cyg)}; }
};

// One sum (forward softmax): plain float64, or (s, c) with the plain TwoSum step.
struct Plain1 {
    double s;
    __device__ __forceinline__ void zero() { s = 0.0; }
    __device__ __forceinline__ void add(double x) { s = __dadd_rn(s, x); }
    __device__ __forceinline__ void combine(const Plain1& o) { s = __dadd_rn(s, o.s); }
    template <class F>
    __device__ __forceinline__ Plain1 map(const F& f) const { return {f(s)}; }
    __device__ __forceinline__ double value() const { return s; }
};

struct DD1 {
    double s, c;
    __device__ __forceinline__ void zero() { s = 0.0; c = 0.0; }
    __device__ __forceinline__ void add(double x) {
        double e;
        s = two_sum(s, x, &e);
        c = __dadd_rn(c, e);
    }
    __device__ __forceinline__ void combine(const DD1& o) {
        double e;
        s = two_sum(s, o.s, &e);
        c = __dadd_rn(__dadd_rn(c, o.c), e);
    }
    template <class F>
    __device__ __forceinline__ DD1 map(const F& f) const { return {f(s), f(c)}; }
    __device__ __forceinline__ double value() const { return isfinite(s) ? __dadd_rn(s, c) : s; }  // RowNumerics.value
};

// RowNumerics.weightedMean(sN, cN, sD, cD), line for line.
__device__ __forceinline__ double weighted_mean_dd(double sN, double cN, double sD, double cD) {
    if (!(isfinite(sN) && isfinite(sD))) {
        return sD == 0.0 ? 0.0 : __ddiv_rn(sN, sD);
    }
    double dh = __dadd_rn(sD, cD);
    double dv = __dsub_rn(dh, sD);
    double dl = __dadd_rn(__dsub_rn(sD, __dsub_rn(dh, dv)), __dsub_rn(cD, dv));
    if (dh == 0.0) {
        return 0.0;
    }
    double nh = __dadd_rn(sN, cN);
    double nv = __dsub_rn(nh, sN);
    double nl = __dadd_rn(__dsub_rn(sN, __dsub_rn(nh, nv)), __dsub_rn(cN, nv));
    double q = __ddiv_rn(nh, dh);
    if (!isfinite(q)) {
        return q;
    }
    double r = __fma_rn(-q, dh, nh);
    r = __dadd_rn(r, nl);
    r = __fma_rn(-q, dl, r);
    return __dadd_rn(q, __ddiv_rn(r, dh));
}

// ---------------------------------------------------------------------------------------------------
// float64 rows near overflow (docs/numerics.md §2, float64 step 3a): RowNumerics.rescaledMean, run
// serially by one thread on the rare rows whose plain sums overflowed (the branch is uniform per row:
// every thread of the row sees the same sums). Not run on a GPU yet.

#define SCALE_TARGET 494

// RowNumerics.pow2: 2^e exactly, -1074 <= e <= 1023 (subnormal below -1022)
__device__ __forceinline__ double pow2(int e) {
    return e >= -1022 ? __longlong_as_double((long long)(e + 1023) << 52) : __longlong_as_double(1LL << (e + 1074));
}

// RowNumerics.scaleExponent: max(0, Math.getExponent(m) - SCALE_TARGET); getExponent is -1023 for 0 and subnormals
__device__ __forceinline__ int scale_exponent(double m) {
    int e = (int)((__double_as_longlong(m) >> 52) & 0x7ff) - 1023;
    return max(0, e - SCALE_TARGET);
}

// A running max |x| that stays NaN once a NaN is seen (only its finiteness and its exponent are used)
__device__ __forceinline__ double abs_max(double m, double x) {
    double a = fabs(x);
    return (a != a || a > m) ? a : m;
}

// RowNumerics.segmentPairs: the canonical in-segment sums (32 lanes in index order, the lane tree) of
// y' = y * 2^-kY and y' * g', g' = g * 2^-kG; kG = kY = 0 gives the fast kernels' partials bit for bit.
__device__ __noinline__ DD2 segment_pairs(const double* g, const double* y, int len, int kG, int kY) {
    double fg = pow2(-kG);
    double fy = pow2(-kY);
    DD2 lanes[LANES];
    for (int l = 0; l < LANES; l++) lanes[l].zero();
    for (int k = 0; k < len; k++) {
        YG t;
        t.y = __dmul_rn(y[k], fy);
        t.g = __dmul_rn(g[k], fg);
        lanes[k & (LANES - 1)].add(t);
    }
    for (int off = LANES / 2; off > 0; off >>= 1) {
        for (int l = 0; l < off; l++) lanes[l].combine(lanes[l + off]);
    }
    return lanes[0];
}

// RowNumerics.rescaledMean(g, go, y, yo, cols, d): d of a row whose plain sums overflowed, or d itself
// when an entry is NaN or infinite. Each segment's partials are the canonical ones or, where those
// overflowed, recomputed at the segment's own scale; all are brought to the row's scale and reduced by
// the pairwise segment tree, here as a streaming binary counter (the same tree: T(n) = T(2^k) + T(n - 2^k)).
__device__ __noinline__ double rescaled_mean(const double* g, const double* y, int cols, double d) {
    double mg = 0.0;
    double my = 0.0;
    for (int k = 0; k < cols; k++) {
        mg = abs_max(mg, g[k]);
        my = abs_max(my, y[k]);
    }
    if (!(isfinite(mg) && isfinite(my))) return d;
    int rowG = scale_exponent(mg);
    int rowY = scale_exponent(my);
    DD2 stack[32];
    int level[32];
    int top = 0;
    int segs = (int)(((long long)cols + SEGMENT - 1) / SEGMENT);
    for (int s = 0; s < segs; s++) {
        int start = s * SEGMENT;
        int len = min(SEGMENT, cols - start);
        DD2 p = segment_pairs(g + start, y + start, len, 0, 0);
        int kG = 0;
        int kY = 0;
        if (!(isfinite(p.sy) && isfinite(p.syg))) {  // RowNumerics.scaledSegment
            double sg = 0.0;
            double sy = 0.0;
            for (int k = start; k < start + len; k++) {
                sg = abs_max(sg, g[k]);
                sy = abs_max(sy, y[k]);
            }
            kG = scale_exponent(sg);
            kY = scale_exponent(sy);
            p = segment_pairs(g + start, y + start, len, kG, kY);
        }
        double fy = pow2(kY - rowY);
        double fyg = pow2(kG - rowG + kY - rowY);
        p.sy = __dmul_rn(p.sy, fy);
        p.cy = __dmul_rn(p.cy, fy);
        p.syg = __dmul_rn(p.syg, fyg);
        p.cyg = __dmul_rn(p.cyg, fyg);
        stack[top] = p;
        level[top] = 0;
        top++;
        while (top >= 2 && level[top - 1] == level[top - 2]) {
            stack[top - 2].combine(stack[top - 1]);
            level[top - 2]++;
            top--;
        }
    }
    DD2 r = stack[top - 1];
    for (int i = top - 2; i >= 0; i--) {
        DD2 x = stack[i];
        x.combine(r);
        r = x;
    }
    return __dmul_rn(weighted_mean_dd(r.syg, r.cyg, r.sy, r.cy), pow2(rowG));
}

// ---------------------------------------------------------------------------------------------------
// dtype traits: storage type, 16-byte vector width, widening, the one rounding of an output, the
// accumulators and d.

// The three dtypes summed in plain float64 (float32, bf16, fp16) share everything but the storage type,
// the vector width, widening and the one rounding, which D supplies (wide, narrow).
template <class D, class TT, int V>
struct PlainTraits {
    typedef TT T;
    typedef Plain2 Acc;
    typedef Plain1 Acc1;
    enum { VEC = V };
    // RowNumerics.weightedMean(double, double): rounded once to float32, then used as a double
    static __device__ __forceinline__ double mean(const Plain2& a) {
        return a.y == 0.0 ? 0.0 : (double)__double2float_rn(__ddiv_rn(a.yg, a.y));
    }
    // float64 sums of float32 (or narrower) terms cannot overflow: nothing to rescue
    template <class P>
    static __device__ __forceinline__ double rescue(double d, const Plain2&, const P*, const P*, int) { return d; }
    // RowNumerics.gradIn(float, float, float): y * (g - d) in double, rounded once
    static __device__ __forceinline__ T out(T y, T g, double d) {
        return D::narrow(__dmul_rn(D::wide(y), __dsub_rn(D::wide(g), d)));
    }
};

struct F32 : PlainTraits<F32, float, 4> {
    static __device__ __forceinline__ double wide(float x) { return (double)x; }
    static __device__ __forceinline__ float narrow(double x) { return __double2float_rn(x); }
};

struct BF16 : PlainTraits<BF16, u16, 8> {
    static __device__ __forceinline__ double wide(u16 x) { return (double)__uint_as_float(((unsigned)x) << 16); }
    static __device__ __forceinline__ u16 narrow(double x) { return round_once<-126, 7, 127, 0x7f80u, 0x7fc0u>(x); }
};

struct F16 : PlainTraits<F16, u16, 8> {
    static __device__ __forceinline__ double wide(u16 x) {
        float f;
        asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x));  // exact
        return (double)f;
    }
    static __device__ __forceinline__ u16 narrow(double x) { return round_once<-14, 10, 15, 0x7c00u, 0x7e00u>(x); }
};

struct F64 {
    typedef double T;
    typedef DD2 Acc;
    typedef DD1 Acc1;
    enum { VEC = 2 };
    static __device__ __forceinline__ double wide(double x) { return x; }
    static __device__ __forceinline__ double narrow(double x) { return x; }
    static __device__ __forceinline__ double mean(const DD2& a) { return weighted_mean_dd(a.syg, a.cyg, a.sy, a.cy); }
    // RowNumerics.finishRow's first step: where the row's plain sums overflowed, d is recomputed scaled
    static __device__ __forceinline__ double rescue(double d, const DD2& a, const double* g, const double* y,
                                                    int cols) {
        return (isfinite(a.sy) && isfinite(a.syg)) ? d : rescaled_mean(g, y, cols, d);
    }
    // RowNumerics.gradIn(double, double, double): fl(y * fl(g - d)), no fma; where g - d overflows with
    // g and d finite (then |g|, |d| >= 2^970, so halving is exact), 2 * fl(y * fl(g/2 - d/2))
    static __device__ __forceinline__ T out(T y, T g, double d) {
        double t = __dsub_rn(g, d);
        if (isinf(t) && isfinite(g) && isfinite(d)) {
            return __dmul_rn(2.0, __dmul_rn(y, __dsub_rn(__dmul_rn(0.5, g), __dmul_rn(0.5, d))));
        }
        return __dmul_rn(y, t);
    }
};

// ---------------------------------------------------------------------------------------------------
// The canonical reduction.

// Lane `lane`'s share of the segment [start, start+len): entries lane, lane+32, ... in increasing
// order, from +0.0. `load(k)` gives entry k's term. UNROLL loads are issued before they are added
// (the adds stay in index order), so several loads are in flight per thread.
template <class Acc, class Load>
__device__ __forceinline__ Acc lane_sum(int start, int len, int lane, const Load& load) {
    Acc a;
    a.zero();
    int k = lane;
    for (; k + (UNROLL - 1) * LANES < len; k += UNROLL * LANES) {
        decltype(load(0)) t[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            t[u] = load(start + k + u * LANES);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            a.add(t[u]);
        }
    }
    for (; k < len; k += LANES) {
        a.add(load(start + k));
    }
    return a;
}

// Every component of a, from lane l + off (a lane past the end gets its own), and from lane 0.
template <class Acc>
__device__ __forceinline__ Acc shfl_down(const Acc& a, int off) {
    return a.map([off](double v) { return __shfl_down_sync(FULL_MASK, v, off); });
}

template <class Acc>
__device__ __forceinline__ Acc shfl0(const Acc& a) {
    return a.map([](double v) { return __shfl_sync(FULL_MASK, v, 0); });
}

// for off in 16, 8, 4, 2, 1: v[l] = v[l] + v[l+off]; the segment sum ends in lane 0.
template <class Acc>
__device__ __forceinline__ Acc warp_tree(Acc a) {
#pragma unroll
    for (int off = LANES / 2; off > 0; off >>= 1) {
        Acc o = shfl_down(a, off);
        a.combine(o);
    }
    return a;
}

// The pairwise tree over n >= 1 segment sums in a[0..n): (0+1), (2+3), ..., an odd last one passes
// up; repeat. Run by all 32 lanes of one warp; b[0..n) is scratch (ping-pong, so no level reads what
// the same level writes). a and b may be in shared or global memory. Returns the root in every lane.
template <class Acc>
__device__ Acc segment_tree(Acc* a, Acc* b, int n, int lane) {
    while (n > 1) {
        int half = n >> 1;
        for (int i = lane; i < half; i += LANES) {
            Acc x = a[2 * i];
            x.combine(a[2 * i + 1]);
            b[i] = x;
        }
        if ((n & 1) && lane == 0) {
            b[half] = a[n - 1];
        }
        __syncwarp();
        Acc* t = a;
        a = b;
        b = t;
        n = half + (n & 1);
    }
    return a[0];
}

// (cols + SEGMENT - 1) / SEGMENT would overflow int for cols > 2^31 - SEGMENT
__device__ __forceinline__ int segments_of(int cols) { return (int)(((long long)cols + SEGMENT - 1) / SEGMENT); }

template <class DT>
__device__ __forceinline__ int misalign(const void* p) {  // in elements, 0 .. VEC-1
    return (int)(((size_t)p & 15) / sizeof(typename DT::T));
}

// Copies n entries from global src to shared dst with 16-byte loads; dst has the same address mod 16
// as src (the caller places it so). Scalar head and tail; UNROLL/2 vector loads in flight per thread.
template <class DT>
__device__ __forceinline__ void stage(typename DT::T* dst, const typename DT::T* src, int n) {
    typedef typename DT::T T;
    const int VEC = DT::VEC;
    int head = (VEC - misalign<DT>(src)) % VEC;
    if (head > n) head = n;
    for (int k = threadIdx.x; k < head; k += blockDim.x) dst[k] = src[k];
    int nvec = (n - head) / VEC;
    const uint4* s = reinterpret_cast<const uint4*>(src + head);
    uint4* d = reinterpret_cast<uint4*>(dst + head);
    const int U = 4;
    int v = threadIdx.x;
    for (; v + (U - 1) * (int)blockDim.x < nvec; v += U * blockDim.x) {
        uint4 r[U];
#pragma unroll
        for (int u = 0; u < U; u++) r[u] = s[v + u * blockDim.x];
#pragma unroll
        for (int u = 0; u < U; u++) d[v + u * blockDim.x] = r[u];
    }
    for (; v < nvec; v += blockDim.x) d[v] = s[v];
    for (int k = head + nvec * VEC + threadIdx.x; k < n; k += blockDim.x) dst[k] = src[k];
}

template <class DT>
union Vec {
    uint4 v;
    typename DT::T e[DT::VEC];
};

// Writes out[k] = f(k) for k in [0, n) with 16-byte stores where out is aligned (scalar head and tail).
template <class DT, class F>
__device__ __forceinline__ void store_row(typename DT::T* out, int n, const F& f) {
    const int VEC = DT::VEC;
    int head = (VEC - misalign<DT>(out)) % VEC;
    if (head > n) head = n;
    for (int k = threadIdx.x; k < head; k += blockDim.x) out[k] = f(k);
    int nvec = (n - head) / VEC;
    uint4* o = reinterpret_cast<uint4*>(out + head);
    for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
        Vec<DT> w;
#pragma unroll
        for (int i = 0; i < VEC; i++) w.e[i] = f(head + v * VEC + i);
        o[v] = w.v;
    }
    for (int k = head + nvec * VEC + threadIdx.x; k < n; k += blockDim.x) out[k] = f(k);
}

// The output sweep from global memory over [0, n): 16-byte loads and stores when y, g and out share
// their alignment (the usual case: equal strides and 16-byte aligned bases), else coalesced scalars.
template <class DT>
__device__ __forceinline__ void output_global(const typename DT::T* g, const typename DT::T* y,
                                              typename DT::T* out, int n, double d) {
    typedef typename DT::T T;
    const int VEC = DT::VEC;
    int m = misalign<DT>(out);
    if (misalign<DT>(g) == m && misalign<DT>(y) == m) {
        int head = (VEC - m) % VEC;
        if (head > n) head = n;
        for (int k = threadIdx.x; k < head; k += blockDim.x) out[k] = DT::out(y[k], g[k], d);
        int nvec = (n - head) / VEC;
        const uint4* gv = reinterpret_cast<const uint4*>(g + head);
        const uint4* yv = reinterpret_cast<const uint4*>(y + head);
        uint4* ov = reinterpret_cast<uint4*>(out + head);
        for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
            Vec<DT> a, b, w;
            a.v = yv[v];
            b.v = gv[v];
#pragma unroll
            for (int i = 0; i < VEC; i++) w.e[i] = DT::out(a.e[i], b.e[i], d);
            ov[v] = w.v;
        }
        for (int k = head + nvec * VEC + threadIdx.x; k < n; k += blockDim.x) out[k] = DT::out(y[k], g[k], d);
    } else {
        for (int k = threadIdx.x; k < n; k += blockDim.x) {
            T yk = y[k];
            T gk = g[k];
            out[k] = DT::out(yk, gk, d);
        }
    }
}

template <class DT>
struct LoadYG {  // entry k of a row (global or shared memory), widened
    const typename DT::T* y;
    const typename DT::T* g;
    __device__ __forceinline__ YG operator()(int k) const {
        YG t;
        t.y = DT::wide(y[k]);
        t.g = DT::wide(g[k]);
        return t;
    }
};

// Segment sums of one row by the warps of a block: warp w takes segments first+w, first+w+nwarps, ...
// below last; lane 0 writes each segment's sum to part[seg - first].
template <class DT>
__device__ __forceinline__ void block_segments(const typename DT::T* g, const typename DT::T* y, int cols,
                                               int first, int last, typename DT::Acc* part) {
    typedef typename DT::Acc Acc;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int nwarps = blockDim.x >> 5;
    LoadYG<DT> load = {y, g};
    for (int seg = first + warp; seg < last; seg += nwarps) {
        int start = seg * SEGMENT;
        int len = min(SEGMENT, cols - start);
        Acc a = lane_sum<Acc>(start, len, lane, load);
        a = warp_tree(a);
        if (lane == 0) part[seg - first] = a;
    }
}

// RowNumerics.constantRowMean, applied after d: when d != g[0] and every g[i] == g[0] (IEEE ==: +0
// equals -0, NaN equals nothing), d becomes g[0], so a constant row gives exact zeros even where the
// products y*g underflow. d and first are uniform in the group, so the early return never splits a
// barrier. The caller reads first = g[0] before the barrier that precedes this call: computing in
// place (gradIn == gradOut), a warp that returns early writes out[0] == g[0], and a late warp that read
// g[0] only here would see another first and enter __syncthreads_and alone. On an ordinary row each
// thread stops at its first entry that differs: about one load per thread.
template <class DT>
__device__ __forceinline__ double constant_row_block(double d, double first, const typename DT::T* g, int cols) {
    if (d == first) return d;
    int same = 1;
    for (unsigned k = threadIdx.x; k < (unsigned)cols; k += blockDim.x) {
        if (DT::wide(g[k]) != first) {
            same = 0;
            break;
        }
    }
    same = __syncthreads_and(same);
    return (same && first == first) ? first : d;
}

// The same for one warp scanning the row (lane = threadIdx.x & 31).
template <class DT>
__device__ __forceinline__ double constant_row_warp(double d, const typename DT::T* g, int cols) {
    double first = DT::wide(g[0]);
    if (d == first) return d;
    int same = 1;
    for (unsigned k = threadIdx.x & 31; k < (unsigned)cols; k += LANES) {
        if (DT::wide(g[k]) != first) {
            same = 0;
            break;
        }
    }
    same = __all_sync(FULL_MASK, same);
    return (same && first == first) ? first : d;
}

// ---------------------------------------------------------------------------------------------------
// Kernels. Arguments: g = gradOut, y = softmaxOut, out = gradIn (may equal g), a row stride in
// elements (>= cols). Row r starts at r * stride.

// One row of a backward kernel's three arrays.
template <class DT>
struct Row {
    const typename DT::T* g;
    const typename DT::T* y;
    typename DT::T* out;
};

template <class DT>
__device__ __forceinline__ Row<DT> row_of(const typename DT::T* g, const typename DT::T* y, typename DT::T* out,
                                          long long row, long long stride) {
    return {g + row * stride, y + row * stride, out + row * stride};
}

// One warp per row, the row in registers: lane l holds entries l + 32*j, j < P (cols <= 32*P <= 1024,
// one segment). blockDim.x = 32 * rows per block.
template <class DT, int P>
__device__ __forceinline__ void warp_kernel(const typename DT::T* g, const typename DT::T* y, typename DT::T* out,
                                            long long rows, int cols, long long stride) {
    typedef typename DT::T T;
    typedef typename DT::Acc Acc;
    long long row = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;  // a whole warp leaves together
    int lane = threadIdx.x & 31;
    const Row<DT> r = row_of<DT>(g, y, out, row, stride);
    T ry[P], rg[P];
#pragma unroll
    for (int j = 0; j < P; j++) {
        int k = lane + j * LANES;
        if (k < cols) {
            ry[j] = r.y[k];
            rg[j] = r.g[k];
        }
    }
    Acc a;
    a.zero();
#pragma unroll
    for (int j = 0; j < P; j++) {
        if (lane + j * LANES < cols) {
            YG t;
            t.y = DT::wide(ry[j]);
            t.g = DT::wide(rg[j]);
            a.add(t);
        }
    }
    a = shfl0(warp_tree(a));
    double d = DT::rescue(DT::mean(a), a, r.g, r.y, cols);  // before any write: r.g may be r.out
    double first = DT::wide(r.g[0]);  // read before any output is written (gradIn may be gradOut):
    __syncwarp();                     // no lane writes out[0] == g[0] before every lane has read it
    if (d != first) {                 // the constant-row rule, on the row held in registers
        int same = 1;
#pragma unroll
        for (int j = 0; j < P; j++) {
            if (lane + j * LANES < cols && DT::wide(rg[j]) != first) same = 0;
        }
        same = __all_sync(FULL_MASK, same);
        if (same && first == first) d = first;
    }
#pragma unroll
    for (int j = 0; j < P; j++) {
        int k = lane + j * LANES;
        if (k < cols) r.out[k] = DT::out(ry[j], rg[j], d);
    }
}

// Shared-memory layout of sb_block (the Java LaunchPlanner computes the same byte count):
//   y:    rowSlots(cols) entries   (the row placed at its global address mod 16)
//   g:    rowSlots(cols) entries
//   part: 2 * segments Acc         (segment sums and the tree's scratch), 16-byte aligned
//   d:    one double
__device__ __forceinline__ int row_slots(int cols, int vec) { return ((cols + vec + vec - 1) / vec) * vec; }

template <class DT>
__device__ __forceinline__ void block_kernel(const typename DT::T* g, const typename DT::T* y, typename DT::T* out,
                                             long long rows, int cols, long long stride) {
    typedef typename DT::T T;
    typedef typename DT::Acc Acc;
    extern __shared__ __align__(16) unsigned char smem[];
    const Row<DT> r = row_of<DT>(g, y, out, blockIdx.x, stride);
    int slots = row_slots(cols, DT::VEC);
    int segs = segments_of(cols);
    T* sy = reinterpret_cast<T*>(smem);
    T* sg = sy + slots;
    Acc* part = reinterpret_cast<Acc*>(sg + slots);  // slots * sizeof(T) is a multiple of 16
    double* sd = reinterpret_cast<double*>(part + 2 * segs);
    int my = misalign<DT>(r.y);
    int mg = misalign<DT>(r.g);
    stage<DT>(sy + my, r.y, cols);
    stage<DT>(sg + mg, r.g, cols);
    __syncthreads();
    block_segments<DT>(sg + mg, sy + my, cols, 0, segs, part);
    __syncthreads();
    if ((threadIdx.x >> 5) == 0) {
        Acc a = segment_tree(part, part + segs, segs, threadIdx.x & 31);
        if (threadIdx.x == 0) *sd = DT::rescue(DT::mean(a), a, sg + mg, sy + my, cols);
    }
    __syncthreads();
    const T* cy = sy + my;
    const T* cg = sg + mg;
    double d = constant_row_block<DT>(*sd, DT::wide(cg[0]), cg, cols);  // cg is shared memory: no race
    store_row<DT>(r.out, cols, [&](int k) { return DT::out(cy[k], cg[k], d); });
}

// Shared memory of sb_reread: part (2 * segments Acc) and d.
template <class DT>
__device__ __forceinline__ void reread_kernel(const typename DT::T* g, const typename DT::T* y, typename DT::T* out,
                                              long long rows, int cols, long long stride) {
    typedef typename DT::Acc Acc;
    extern __shared__ __align__(16) unsigned char smem[];
    const Row<DT> r = row_of<DT>(g, y, out, blockIdx.x, stride);
    int segs = segments_of(cols);
    Acc* part = reinterpret_cast<Acc*>(smem);
    double* sd = reinterpret_cast<double*>(part + 2 * segs);
    block_segments<DT>(r.g, r.y, cols, 0, segs, part);
    __syncthreads();
    if ((threadIdx.x >> 5) == 0) {
        Acc a = segment_tree(part, part + segs, segs, threadIdx.x & 31);
        if (threadIdx.x == 0) *sd = DT::rescue(DT::mean(a), a, r.g, r.y, cols);  // reads end before the barrier
    }
    double first = DT::wide(r.g[0]);  // every thread reads g[0] before the barrier, i.e. before any write
    __syncthreads();
    double d = constant_row_block<DT>(*sd, first, r.g, cols);  // its reads end at its barrier, before any write
    output_global<DT>(r.g, r.y, r.out, cols, d);
}

// Split rows. grid = (splits, rows); block x takes segments [x*spb, min(segs, (x+1)*spb)).
// ws: per row 2 * segs Acc (segment sums, then the tree's scratch); dws: one double per row.
// staged > 0: the block stages `staged` whole segments at a time into shared memory with 16-byte loads
// (every thread loads, so a segment arrives after about one memory latency instead of one per
// UNROLL entries of a lane), then warp w sums staged segment w in the canonical lane order.
// Shared memory: staged * 2 * row_slots(SEGMENT) entries. staged == 0 (a segment does not fit, e.g.
// float64 on a 48 KiB device): each warp sums its segments straight from global memory.
template <class DT>
__device__ __forceinline__ void split_partials(const typename DT::T* g, const typename DT::T* y, long long rows,
                                               int cols, long long stride, int spb, void* ws, int staged) {
    typedef typename DT::T T;
    typedef typename DT::Acc Acc;
    extern __shared__ __align__(16) unsigned char smem[];
    long long row = blockIdx.y;
    int segs = segments_of(cols);
    int first = blockIdx.x * spb;
    int last = min(segs, first + spb);
    Acc* part = reinterpret_cast<Acc*>(ws) + row * 2 * segs;
    const T* gr = g + row * stride;
    const T* yr = y + row * stride;
    if (staged == 0) {
        block_segments<DT>(gr, yr, cols, first, last, part + first);
        return;
    }
    int slots = row_slots(SEGMENT, DT::VEC);
    T* buf = reinterpret_cast<T*>(smem);
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    for (int base = first; base < last; base += staged) {
        int count = min(staged, last - base);
        for (int s = 0; s < count; s++) {
            int start = (base + s) * SEGMENT;
            int len = min(SEGMENT, cols - start);
            stage<DT>(buf + (2 * s) * slots + misalign<DT>(yr + start), yr + start, len);
            stage<DT>(buf + (2 * s + 1) * slots + misalign<DT>(gr + start), gr + start, len);
        }
        __syncthreads();
        if (warp < count) {
            int seg = base + warp;
            int start = seg * SEGMENT;
            int len = min(SEGMENT, cols - start);
            LoadYG<DT> load = {buf + (2 * warp) * slots + misalign<DT>(yr + start),
                               buf + (2 * warp + 1) * slots + misalign<DT>(gr + start)};
            Acc a = lane_sum<Acc>(0, len, lane, load);
            a = warp_tree(a);
            if (lane == 0) part[seg] = a;
        }
        __syncthreads();  // the next round overwrites the staging buffers
    }
}

// One warp per row (blockDim.x = 32, grid = rows): the segment tree in global memory, d, the float64
// rescue of rows whose sums overflowed (RowNumerics.finishRow's first step: every lane computes it from
// the same uniform sums and entries, so d stays uniform, as in sb_warp), and the constant-row rule (the
// output kernel, which may overwrite g in place, runs after this one).
template <class DT>
__device__ __forceinline__ void split_finish(const typename DT::T* g, const typename DT::T* y, long long rows,
                                             int cols, long long stride, void* ws, double* dws) {
    typedef typename DT::Acc Acc;
    long long row = blockIdx.x;
    int segs = segments_of(cols);
    Acc* part = reinterpret_cast<Acc*>(ws) + row * 2 * segs;
    Acc r = segment_tree(part, part + segs, segs, threadIdx.x & 31);
    const typename DT::T* gr = g + row * stride;
    double d = constant_row_warp<DT>(DT::rescue(DT::mean(r), r, gr, y + row * stride, cols), gr, cols);
    if (threadIdx.x == 0) dws[row] = d;
}

template <class DT>
__device__ __forceinline__ void split_output(const typename DT::T* g, const typename DT::T* y, typename DT::T* out,
                                             long long rows, int cols, long long stride, int spb, const double* dws) {
    long long row = blockIdx.y;
    long long lo = (long long)blockIdx.x * spb * SEGMENT;
    long long hi = min((long long)cols, lo + (long long)spb * SEGMENT);
    long long off = row * stride + lo;
    output_global<DT>(g + off, y + off, out + off, (int)(hi - lo), dws[row]);
}

// fdlibm's e_exp.c (__ieee754_exp), step for step: StrictMath.exp, which the contract's forward softmax
// is defined by (contract §2), bit for bit; the Java port is cpu-backend's FdlibmExp. The GPU's own exp
// is within 1 ulp but not the same function: a forward float64 softmax through it was 3 ulp from the
// reference on an H200 (bench/results/gpu-h200-2026-12-04/run2). Every step is one rounding
// (SB_MUL etc.: the _rn intrinsics on the device; plain IEEE double operations in the host build of
// cuda-backend/src/test/c/fdlibm_exp_check.cu, which checks it against StrictMath.exp without a GPU).
#ifdef __CUDA_ARCH__
#define SB_MUL(a, b) __dmul_rn(a, b)
#define SB_ADD(a, b) __dadd_rn(a, b)
#define SB_SUB(a, b) __dsub_rn(a, b)
#define SB_DIV(a, b) __ddiv_rn(a, b)
#define SB_BITS(x) __double_as_longlong(x)
#define SB_DOUBLE(b) __longlong_as_double(b)
#else
#define SB_MUL(a, b) ((a) * (b))
#define SB_ADD(a, b) ((a) + (b))
#define SB_SUB(a, b) ((a) - (b))
#define SB_DIV(a, b) ((a) / (b))
static inline long long sb_bits(double x) { long long b; memcpy(&b, &x, 8); return b; }
static inline double sb_double(long long b) { double x; memcpy(&x, &b, 8); return x; }
#define SB_BITS(x) sb_bits(x)
#define SB_DOUBLE(b) sb_double(b)
#endif

__host__ __device__ __forceinline__ double fdlibm_exp(double x) {
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    const double INV_LN2 = 1.44269504088896338700e+00, TWOM1000 = 9.33263618503218878990e-302;
    const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03;
    const double P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06;
    const double P5 = 4.13813679705723846039e-08;
    long long bits = SB_BITS(x);
    int hx = (int)(bits >> 32);
    int xsb = (hx >> 31) & 1;
    hx &= 0x7fffffff;
    if (hx >= 0x40862E42) {  // |x| >= 709.78...: non-finite, overflow, underflow
        if (hx >= 0x7ff00000) {
            if (((hx & 0xfffff) | (int)bits) != 0) return SB_ADD(x, x);  // NaN
            return xsb == 0 ? x : 0.0;
        }
        if (x > 7.09782712893383973096e+02) return SB_DOUBLE(0x7ff0000000000000LL);   // HUGE * HUGE
        if (x < -7.45133219101941108420e+02) return 0.0;                              // TWOM1000^2
    }
    double hi = 0.0, lo = 0.0;
    int k = 0;
    if (hx > 0x3fd62e42) {  // |x| > 0.5 ln2: x = k ln2 + r, r held as hi - lo
        if (hx < 0x3FF0A2B2) {
            hi = xsb == 0 ? SB_SUB(x, LN2_HI) : SB_ADD(x, LN2_HI);
            lo = xsb == 0 ? LN2_LO : -LN2_LO;
            k = 1 - xsb - xsb;
        } else {
            k = (int)SB_ADD(SB_MUL(INV_LN2, x), xsb == 0 ? 0.5 : -0.5);  // C's truncation, as fdlibm's
            double t = (double)k;
            hi = SB_SUB(x, SB_MUL(t, LN2_HI));
            lo = SB_MUL(t, LN2_LO);
        }
        x = SB_SUB(hi, lo);
    } else if (hx < 0x3e300000) {  // |x| < 2^-28
        return SB_ADD(1.0, x);
    }
    double t = SB_MUL(x, x);
    double c = SB_SUB(x, SB_MUL(t, SB_ADD(P1, SB_MUL(t, SB_ADD(P2, SB_MUL(t, SB_ADD(P3, SB_MUL(t, SB_ADD(P4,
                      SB_MUL(t, P5))))))))));
    if (k == 0) return SB_SUB(1.0, SB_SUB(SB_DIV(SB_MUL(x, c), SB_SUB(c, 2.0)), x));
    double y = SB_SUB(1.0, SB_SUB(SB_SUB(lo, SB_DIV(SB_MUL(x, c), SB_SUB(2.0, c))), hi));
    long long yb = SB_BITS(y);
    if (k >= -1021) return SB_DOUBLE(yb + ((long long)k << 52));  // add k to y's exponent
    return SB_MUL(SB_DOUBLE(yb + ((long long)(k + 1000) << 52)), TWOM1000);
}

// Java's Math.max(double, double): NaN wins, +0.0 > -0.0 (fmax would drop NaN).
__device__ __forceinline__ double java_max(double a, double b) {
    if (a != a) return a;
    if (a == 0.0 && b == 0.0 && __double_as_longlong(a) == (long long)0x8000000000000000ULL) return b;
    return a >= b ? a : b;
}

// Forward softmax, one block per row: max, then sum(exp(x - max)) in the canonical order (the
// segment sums and the tree in ws: per row 2 * segs Acc1), then out = exp(x - max) / sum, rounded once.
template <class DT>
__device__ __forceinline__ void forward_kernel(const typename DT::T* x, typename DT::T* out, long long rows, int cols,
                                               long long stride, void* ws) {
    typedef typename DT::T T;
    typedef typename DT::Acc1 Acc;
    __shared__ double red[32];
    long long row = blockIdx.x;
    const T* xr = x + row * stride;
    T* outr = out + row * stride;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int nwarps = blockDim.x >> 5;
    double m = -INFINITY;
    for (unsigned k = threadIdx.x; k < (unsigned)cols; k += blockDim.x) m = java_max(m, DT::wide(xr[k]));
    for (int off = 16; off > 0; off >>= 1) m = java_max(m, __shfl_down_sync(FULL_MASK, m, off));
    if (lane == 0) red[warp] = m;
    __syncthreads();
    if (warp == 0) {
        m = lane < nwarps ? red[lane] : -INFINITY;
        for (int off = 16; off > 0; off >>= 1) m = java_max(m, __shfl_down_sync(FULL_MASK, m, off));
        if (lane == 0) red[0] = m;
    }
    __syncthreads();
    m = red[0];
    int segs = segments_of(cols);
    Acc* part = reinterpret_cast<Acc*>(ws) + row * 2 * segs;
    auto load = [&](int k) { return fdlibm_exp(__dsub_rn(DT::wide(xr[k]), m)); };
    for (int seg = warp; seg < segs; seg += nwarps) {
        int start = seg * SEGMENT;
        Acc a = lane_sum<Acc>(start, min(SEGMENT, cols - start), lane, load);
        a = warp_tree(a);
        if (lane == 0) part[seg] = a;
    }
    __syncthreads();
    if (warp == 0) {
        Acc r = segment_tree(part, part + segs, segs, lane);
        if (lane == 0) red[1] = r.value();
    }
    __syncthreads();
    double sum = red[1];
    for (unsigned k = threadIdx.x; k < (unsigned)cols; k += blockDim.x) {  // unsigned: k + blockDim.x cannot overflow
        outr[k] = DT::narrow(__ddiv_rn(fdlibm_exp(__dsub_rn(DT::wide(xr[k]), m)), sum));
    }
}

// crossEntropyBackward, one block per row: scale * (y - onehot(label)) in double, rounded once;
// label -100 gives +0.0; any other label outside [0, cols) gives a NaN row (the device-resident API
// cannot throw without synchronising; the host-array API validates labels before launching).
template <class DT>
__device__ __forceinline__ void ce_kernel(const typename DT::T* y, const int* labels, double scale, typename DT::T* out,
                                          long long rows, int cols, long long stride) {
    typedef typename DT::T T;
    long long row = blockIdx.x;
    const T* yr = y + row * stride;
    T* outr = out + row * stride;
    int label = labels[row];
    bool ignore = label == -100;
    bool bad = !ignore && (label < 0 || label >= cols);
    for (unsigned k = threadIdx.x; k < (unsigned)cols; k += blockDim.x) {
        double v = ignore ? 0.0
                 : bad ? __longlong_as_double(0x7ff8000000000000LL)
                 : __dmul_rn(scale, __dsub_rn(DT::wide(yr[k]), k == (unsigned)label ? 1.0 : 0.0));
        outr[k] = DT::narrow(v);
    }
}

// ---------------------------------------------------------------------------------------------------
// Entry points (extern "C": unmangled names for cuModuleGetFunction).

#define WARP_KERNEL(NAME, DT, P)                                                                           \
    extern "C" __global__ void NAME(const DT::T* g, const DT::T* y, DT::T* out, long long rows, int cols,   \
                                    long long stride) {                                                     \
        warp_kernel<DT, P>(g, y, out, rows, cols, stride);                                                  \
    }

#define DTYPE_KERNELS(SUF, DT)                                                                              \
    extern "C" __global__ void sb_block_##SUF(const DT::T* g, const DT::T* y, DT::T* out, long long rows,    \
                                              int cols, long long stride) {                                 \
        block_kernel<DT>(g, y, out, rows, cols, stride);                                                    \
    }                                                                                                       \
    extern "C" __global__ void sb_reread_##SUF(const DT::T* g, const DT::T* y, DT::T* out, long long rows,   \
                                               int cols, long long stride) {                                \
        reread_kernel<DT>(g, y, out, rows, cols, stride);                                                   \
    }                                                                                                       \
    extern "C" __global__ void sb_split_partials_##SUF(const DT::T* g, const DT::T* y, long long rows,       \
                                                       int cols, long long stride, int spb, void* ws,       \
                                                       int staged) {                                        \
        split_partials<DT>(g, y, rows, cols, stride, spb, ws, staged);                                      \
    }                                                                                                       \
    extern "C" __global__ void sb_split_finish_##SUF(const DT::T* g, const DT::T* y, long long rows,         \
                                                     int cols, long long stride, void* ws, double* dws) {  \
        split_finish<DT>(g, y, rows, cols, stride, ws, dws);                                                \
    }                                                                                                       \
    extern "C" __global__ void sb_split_output_##SUF(const DT::T* g, const DT::T* y, DT::T* out,            \
                                                     long long rows, int cols, long long stride, int spb,   \
                                                     const double* dws) {                                   \
        split_output<DT>(g, y, out, rows, cols, stride, spb, dws);                                          \
    }                                                                                                       \
    extern "C" __global__ void sm_fwd_##SUF(const DT::T* x, DT::T* out, long long rows, int cols,           \
                                            long long stride, void* ws) {                                   \
        forward_kernel<DT>(x, out, rows, cols, stride, ws);                                                 \
    }                                                                                                       \
    extern "C" __global__ void ce_bwd_##SUF(const DT::T* y, const int* labels, double scale, DT::T* out,    \
                                            long long rows, int cols, long long stride) {                   \
        ce_kernel<DT>(y, labels, scale, out, rows, cols, stride);                                           \
    }                                                                                                       \
    WARP_KERNEL(sb_warp_##SUF##_p1, DT, 1)                                                                  \
    WARP_KERNEL(sb_warp_##SUF##_p2, DT, 2)                                                                  \
    WARP_KERNEL(sb_warp_##SUF##_p4, DT, 4)                                                                  \
    WARP_KERNEL(sb_warp_##SUF##_p8, DT, 8)                                                                  \
    WARP_KERNEL(sb_warp_##SUF##_p16, DT, 16)

DTYPE_KERNELS(f32, F32)
DTYPE_KERNELS(f64, F64)
DTYPE_KERNELS(bf16, BF16)
DTYPE_KERNELS(f16, F16)
// P = 32 (cols up to 1024) only for the 4- and 2-byte dtypes: float64 would need 128 registers for the row.
WARP_KERNEL(sb_warp_f32_p32, F32, 32)
WARP_KERNEL(sb_warp_bf16_p32, BF16, 32)
WARP_KERNEL(sb_warp_f16_p32, F16, 32)

// Preprocessing and binning (docs/algorithms.md §4.1, §4.2): one thread per (view, Gaussian)
// projects it; the Gaussians are sorted by (view, depth); walking them in
// that order each writes one key per tile it touches, a stable sort by tile
// id groups them (each tile's list stays depth-ordered: the same order as
// the reference's single (tile, depth) sort, with far fewer key bits), and
// tileRanges finds each tile's span. A batch of views of one size shares
// one key space: tile ids run view·tilesPerView + tile. Renders skip the
// depth sort instead (bin.go's localSort): the keys are written in index
// order and tileDepthSort sorts each tile's list by (depth, index) after
// the tile sort, giving the same lists.
#include "project.cuh"

// edgeMin is the least of q(u, v) = A u² + 2B u v + C v² (C > 0) over v in
// [v0, v1] at fixed u: the 1-D minimum -B u / C clamped to the edge.
__device__ __forceinline__ float edgeMin(float A, float B, float C, float u, float v0, float v1) {
    float v = fminf(fmaxf(-B * u / C, v0), v1);
    return A * u * u + 2.0f * B * u * v + C * v * v;
}

// cullTau is the q above which binTiles drops a tile (see there).
__device__ __forceinline__ float cullTau(float op) { return -2.002f * powerFloor(op) + 0.02f; }

// tileKeep reports whether a Gaussian (mean m, conic A, B, C, cut tau) can
// reach α ≥ 1/255 at some pixel centre of tile (tx, ty) of a w×h view.
// The rasterisers skip a pair where power = −q/2 < powerFloor(op), q(u, v)
// = A u² + 2B u v + C v² with (u, v) the pixel centre less the mean; a tile
// is dropped only where a lower bound of q over its rectangle of pixel
// centres (clipped to the image) exceeds −2·powerFloor(op) with margins:
// ×1.001 + 0.02 (the CPU's own tau margins) and 1e-5·S, S bounding Σ|terms|
// of q over the tile (the float rounding of this bound and of the
// rasterisers' power, each ~12 ulp of S). The bound is 0 when the mean lies
// inside the rectangle, else the least of its four edges' minima (q is
// convex, so its minimum over the rectangle is on the boundary, and the
// continuous minimum is at most the pixel centres'). A dropped pair would
// only ever take the rasterisers' `continue`, so no result changes.
__device__ __forceinline__ bool tileKeep(float2 m, float A, float B, float C, float tau, int tx, int ty, int w,
                                         int h) {
    float v0 = (float)(ty * TILE) + 0.5f - m.y;
    float v1 = (float)min(ty * TILE + TILE - 1, h - 1) + 0.5f - m.y;
    float u0 = (float)(tx * TILE) + 0.5f - m.x;
    float u1 = (float)min(tx * TILE + TILE - 1, w - 1) + 0.5f - m.x;
    if (u0 <= 0.0f && u1 >= 0.0f && v0 <= 0.0f && v1 >= 0.0f) return true;
    float au = fmaxf(fabsf(u0), fabsf(u1)), av = fmaxf(fabsf(v0), fabsf(v1));
    float slack = 1e-5f * (A * au * au + 2.0f * fabsf(B) * au * av + C * av * av);
    float q = fminf(fminf(edgeMin(A, B, C, u0, v0, v1), edgeMin(A, B, C, u1, v0, v1)),
                    fminf(edgeMin(C, B, A, v0, u0, u1), edgeMin(C, B, A, v1, u0, u1)));
    return !(q > tau + slack);  // NaN keeps the tile
}

// MASK_TILES: preprocess stores which tiles of a rectangle of at most this
// many tiles it kept (bit y·width + x) and duplicateSorted writes those;
// larger rectangles run binTiles in both kernels.
#define MASK_TILES 32

// binTiles walks the tile rectangle r of a binned Gaussian (mean m, conic
// and opacity co) in a w×h view and keeps the tiles tileKeep keeps (every
// tile with cull = 0, the tests' reference); it returns their number and,
// with keys, writes key tileBase + tile and value gi for each, at most cap
// of them. For rectangles over MASK_TILES: preprocess counts with it and
// duplicateSorted writes with it, one function, not inlined, so both see
// the same bits.
__device__ __noinline__ unsigned binTiles(float2 m, float4 co, int4 r, int w, int h, int cull, unsigned tileBase,
                                          int tilesX, unsigned gi, unsigned* keys, unsigned* vals, unsigned cap) {
    float tau = cullTau(co.w);
    unsigned k = 0;
    for (int ty = r.z; ty < r.w; ty++) {
        for (int tx = r.x; tx < r.y; tx++) {
            if (cull && !tileKeep(m, co.x, co.y, co.z, tau, tx, ty, w, h)) continue;
            if (keys != 0 && k < cap) {
                keys[k] = tileBase + (unsigned)(ty * tilesX + tx);
                vals[k] = gi;
            }
            k++;
        }
    }
    return k;
}

extern "C" __global__ void preprocess(const View* views, float nearZ, int perAxis, const float* pos,
                                      const float* logScale, const float* rot, const float* opLogit,
                                      const float* sh, int n, int k, int shDeg, int cull, float2* xy,
                                      float4* conicOp, float4* rgbd, int4* rects, unsigned* masks,
                                      unsigned* tilesTouched) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int view = blockIdx.y;
    if (i >= n) return;
    size_t gi = (size_t)view * n + i;
    const View v = views[view];
    Mode md;
    md.nearZ = nearZ;
    md.perAxis = perAxis;
    CloudPtrs cl;
    cl.pos = pos;
    cl.logScale = logScale;
    cl.rot = rot;
    cl.opLogit = opLogit;
    cl.sh = sh;
    cl.n = n;
    cl.k = k;
    Proj p;
    project(v, md, cl, shDeg, i, p);
    unsigned cnt = 0;
    if (p.binned) {
        float2 m = make_float2(p.mean[0], p.mean[1]);
        float4 co = make_float4(p.conic[0], p.conic[1], p.conic[2], p.op);
        int4 r = make_int4(p.rect[0], p.rect[1], p.rect[2], p.rect[3]);
        int rw = r.y - r.x, area = rw * (r.w - r.z);
        if (area <= MASK_TILES) {
            float tau = cullTau(co.w);
            unsigned mask = 0;
            for (int b = 0; b < area; b++)
                if (!cull || tileKeep(m, co.x, co.y, co.z, tau, r.x + b % rw, r.z + b / rw, v.w, v.h))
                    mask |= 1u << b;
            masks[gi] = mask;
            cnt = __popc(mask);
        } else {
            cnt = binTiles(m, co, r, v.w, v.h, cull, 0, 0, 0, 0, 0, 0);
        }
        xy[gi] = m;
        conicOp[gi] = co;
        rgbd[gi] = make_float4(p.col[0], p.col[1], p.col[2], p.tc[2]);
        rects[gi] = r;
    }
    tilesTouched[gi] = cnt;
}

// depthKeys writes, per (view, Gaussian), key float_bits(depth) for binned
// Gaussians and 0xffffffff for the others (binned depths are positive and
// finite, so their bits sort as the depths and below every unbinned key),
// and value gi. Each view's N keys are one segment of the segmented radix
// sort: a stable sort orders every view's Gaussians by depth, equal depths
// in index order, as the CPU's depth sort does, and the views stay in
// order.
extern "C" __global__ void depthKeys(int total, const unsigned* tilesTouched, const float4* rgbd, unsigned* keys,
                                     unsigned* vals) {
    int gi = blockIdx.x * blockDim.x + threadIdx.x;
    if (gi >= total) return;
    keys[gi] = tilesTouched[gi] != 0 ? __float_as_uint(rgbd[gi].w) : 0xffffffffu;
    vals[gi] = (unsigned)gi;
}

// gatherCounts writes out[j] = tilesTouched[order[j]]: the tile counts in
// depth order, for the scan that places each Gaussian's tile keys.
extern "C" __global__ void gatherCounts(int total, const unsigned* order, const unsigned* tilesTouched,
                                        unsigned* out) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j < total) out[j] = tilesTouched[order[j]];
}

// duplicateSorted walks the Gaussians in depth order (order, or index
// order gi = j when order is null: the local-sort path, tileDepthSort) and writes key = global
// tile id and value gi for every tile each one can reach (preprocess's
// tile mask, or binTiles for large rectangles), at its scanned offset. A stable sort by tile
// then leaves every tile's list depth-ordered (the CPU's bin does the same
// walk, and the dropped pairs leave the others in order), so the sort
// needs only the tile bits.
extern "C" __global__ void duplicateSorted(int total, int n, int cull, const View* views, const unsigned* order,
                                           const unsigned* tilesTouched, const unsigned* offsets, const int4* rects,
                                           const unsigned* masks, const float2* xy, const float4* conicOp,
                                           unsigned* keys, unsigned* vals) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= total) return;
    unsigned gi = order != 0 ? order[j] : (unsigned)j;
    if (tilesTouched[gi] == 0) return;
    int view = (int)(gi / (unsigned)n);
    int tilesX = views[view].tilesX;
    unsigned tileBase = (unsigned)view * (unsigned)(tilesX * views[view].tilesY);
    unsigned off = offsets[j];
    int4 r = rects[gi];
    int rw = r.y - r.x;
    if (rw * (r.w - r.z) > MASK_TILES) {
        binTiles(xy[gi], conicOp[gi], r, views[view].w, views[view].h, cull, tileBase, tilesX, gi, keys + off,
                 vals + off, tilesTouched[gi]);
        return;
    }
    for (unsigned mask = masks[gi]; mask != 0; mask &= mask - 1) {
        int b = __ffs(mask) - 1;
        keys[off] = tileBase + (unsigned)((r.z + b / rw) * tilesX + r.x + b % rw);
        vals[off] = gi;
        off++;
    }
}

// tileRanges sets ranges[tile] = [start, end) in the tile-sorted keys; ranges
// must be zeroed first (empty tiles stay [0, 0)).
extern "C" __global__ void tileRanges(const unsigned* keys, unsigned n, uint2* ranges) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned t = keys[i];
    if (i == 0) {
        ranges[t].x = 0;
    } else {
        unsigned p = keys[i - 1];
        if (p != t) {
            ranges[p].y = i;
            ranges[t].x = i;
        }
    }
    if (i == n - 1) ranges[t].y = n;
}

// The local-sort path (bin.go's localSort): the instances are duplicated in
// index order and stably sorted by tile, so each tile's list is in gi
// order; tileDepthSort then sorts each tile's list by (depth bits, gi),
// which is exactly the order of the global path (a stable depth sort with
// values in gi order, then a stable tile sort: within a tile, depth bits
// ascending, equal bits by gi). The keys are unique (gi is), so any correct
// sort gives that order bit for bit. Only binned Gaussians (positive,
// finite depths) have instances, so the unbinned 0xffffffff keys of
// depthKeys never occur here.
//
// The sort is a bitonic network in the form whose every compare-exchange
// puts the smaller key at the lower index (each merge starts by comparing
// i with its mirror i ^ (k−1), then halves with i ^ s). A list of L entries
// is padded to P = 2^⌈log2 L⌉ with virtual +∞ keys: a compare-exchange
// whose upper index is ≥ L would leave both entries where they are, so it
// is skipped and the padding is never stored. Lists of at most LSORT_MAX
// entries are sorted in shared memory (32 KB of 64-bit keys, depth bits
// above gi); longer ones (the fit's dense centre tiles) sort their
// LSORT_MAX chunks in shared memory, run the merge steps of stride ≥ LSORT_MAX in global
// memory (depth bits in scratch, gi in vals, in place) and finish each
// merge's smaller strides chunk by chunk in shared memory again.
#define LSORT_THREADS 256
#define LSORT_MAX 4096

__device__ __forceinline__ int ceilPow2(int x) { return x <= 1 ? 1 : 1 << (32 - __clz(x - 1)); }

// bitonicStep runs one step of stride s (mirror: the first step of a merge
// of 2s) over a list of len entries (padded length p) held as depth bits
// in hi and gi in lo (global memory); the caller synchronises after it.
__device__ __forceinline__ void bitonicStep(unsigned* hi, unsigned* lo, int len, int p, int s, bool mirror) {
    for (int c = threadIdx.x; c < (p >> 1); c += LSORT_THREADS) {
        int i = ((c & ~(s - 1)) << 1) | (c & (s - 1));
        int j = mirror ? (i ^ (2 * s - 1)) : (i + s);
        if (j >= len) continue;
        unsigned hi_i = hi[i], hi_j = hi[j], lo_i = lo[i], lo_j = lo[j];
        if (hi_j < hi_i || (hi_j == hi_i && lo_j < lo_i)) {
            hi[i] = hi_j;
            hi[j] = hi_i;
            lo[i] = lo_j;
            lo[j] = lo_i;
        }
    }
}

// bitonicStepShared is bitonicStep over keys (depth bits << 32 | gi) in
// shared memory.
__device__ __forceinline__ void bitonicStepShared(unsigned long long* key, int len, int p, int s, bool mirror) {
    for (int c = threadIdx.x; c < (p >> 1); c += LSORT_THREADS) {
        int i = ((c & ~(s - 1)) << 1) | (c & (s - 1));
        int j = mirror ? (i ^ (2 * s - 1)) : (i + s);
        if (j >= len) continue;
        unsigned long long ki = key[i], kj = key[j];
        if (kj < ki) {
            key[i] = kj;
            key[j] = ki;
        }
    }
}

__device__ __forceinline__ void cmpEx(unsigned long long& a, unsigned long long& b) {
    unsigned long long lo = min(a, b), hi = max(a, b);
    a = lo;
    b = hi;
}

// regPass runs, for each group of 4 consecutive keys (one thread holds a
// group in registers), either the whole merges of 2 and 4 (first) or the
// strides 2 and 1 of a larger merge: those steps never leave the group, so
// they cost one shared load and store per key instead of one per step.
// Keys past len read as ~0 (above every real key: depth bits of a positive
// depth sit below 0x7f800000), which the network leaves at the end, the
// same as skipping their compare-exchanges; they are stored in the unused
// slots [len, p) only. The two 16-byte halves of a group are loaded in an
// order that alternates every 4 threads, so the 8 lanes of a quarter warp
// meet 32 distinct banks.
__device__ __forceinline__ void regPass(unsigned long long* key, int len, int p, bool first) {
    ulonglong2* k2 = reinterpret_cast<ulonglong2*>(key);
    for (int g = threadIdx.x; g < ((p + 3) >> 2); g += LSORT_THREADS) {
        int e = 4 * g;
        if (e >= len) continue;
        int h = (g >> 2) & 1;
        ulonglong2 u = k2[2 * g + h], w = k2[2 * g + (h ^ 1)];
        unsigned long long x0 = h ? w.x : u.x, x1 = h ? w.y : u.y, x2 = h ? u.x : w.x, x3 = h ? u.y : w.y;
        if (e + 1 >= len) x1 = ~0ull;
        if (e + 2 >= len) x2 = ~0ull;
        if (e + 3 >= len) x3 = ~0ull;
        if (first) {
            cmpEx(x0, x1);
            cmpEx(x2, x3);
            cmpEx(x0, x3);
            cmpEx(x1, x2);
        } else {
            cmpEx(x0, x2);
            cmpEx(x1, x3);
        }
        cmpEx(x0, x1);
        cmpEx(x2, x3);
        ulonglong2 a = make_ulonglong2(x0, x1), b = make_ulonglong2(x2, x3);
        k2[2 * g + h] = h ? b : a;
        k2[2 * g + (h ^ 1)] = h ? a : b;
    }
}

// sortShared sorts len ≤ LSORT_MAX keys ascending.
__device__ __forceinline__ void sortShared(unsigned long long* key, int len) {
    int p = ceilPow2(len);
    regPass(key, len, p, true);
    __syncthreads();
    for (int k = 8; k <= p; k <<= 1) {
        bitonicStepShared(key, len, p, k >> 1, true);
        __syncthreads();
        for (int s = k >> 2; s >= 4; s >>= 1) {
            bitonicStepShared(key, len, p, s, false);
            __syncthreads();
        }
        regPass(key, len, p, false);
        __syncthreads();
    }
}

__device__ __forceinline__ unsigned long long depthKey(unsigned hi, unsigned gi) {
    return ((unsigned long long)hi << 32) | gi;
}

// tileDepthSort: one block per tile (block b takes tile order[b]); see above.
extern "C" __global__ void __launch_bounds__(LSORT_THREADS)
    tileDepthSort(const uint2* ranges, const unsigned* order, const float4* rgbd, unsigned* vals, unsigned* scratch) {
    __shared__ __align__(16) unsigned long long key[LSORT_MAX];
    uint2 r = ranges[order[blockIdx.x]];
    int len = (int)(r.y - r.x);
    if (len <= 1) return;
    unsigned* v = vals + r.x;
    if (len <= LSORT_MAX) {
        for (int t = threadIdx.x; t < len; t += LSORT_THREADS) {
            unsigned g = v[t];
            key[t] = depthKey(__float_as_uint(rgbd[g].w), g);
        }
        __syncthreads();
        sortShared(key, len);
        for (int t = threadIdx.x; t < len; t += LSORT_THREADS) v[t] = (unsigned)key[t];
        return;
    }
    unsigned* hi = scratch + r.x;
    for (int t = threadIdx.x; t < len; t += LSORT_THREADS) hi[t] = __float_as_uint(rgbd[v[t]].w);
    __syncthreads();
    // Every chunk sorted: the merges of size ≤ LSORT_MAX.
    for (int c0 = 0; c0 < len; c0 += LSORT_MAX) {
        int n = min(LSORT_MAX, len - c0);
        for (int t = threadIdx.x; t < n; t += LSORT_THREADS) key[t] = depthKey(hi[c0 + t], v[c0 + t]);
        __syncthreads();
        sortShared(key, n);
        for (int t = threadIdx.x; t < n; t += LSORT_THREADS) {
            hi[c0 + t] = (unsigned)(key[t] >> 32);
            v[c0 + t] = (unsigned)key[t];
        }
        __syncthreads();
    }
    int p = ceilPow2(len);
    for (int k = 2 * LSORT_MAX; k <= p; k <<= 1) {
        bitonicStep(hi, v, len, p, k >> 1, true);
        __syncthreads();
        for (int s = k >> 2; s >= LSORT_MAX; s >>= 1) {
            bitonicStep(hi, v, len, p, s, false);
            __syncthreads();
        }
        // Strides < LSORT_MAX stay inside LSORT_MAX-aligned chunks.
        for (int c0 = 0; c0 < len; c0 += LSORT_MAX) {
            int n = min(LSORT_MAX, len - c0);
            for (int t = threadIdx.x; t < n; t += LSORT_THREADS) key[t] = depthKey(hi[c0 + t], v[c0 + t]);
            __syncthreads();
            for (int s = LSORT_MAX >> 1; s >= 4; s >>= 1) {
                bitonicStepShared(key, n, LSORT_MAX, s, false);
                __syncthreads();
            }
            regPass(key, n, LSORT_MAX, false);
            __syncthreads();
            for (int t = threadIdx.x; t < n; t += LSORT_THREADS) {
                hi[c0 + t] = (unsigned)(key[t] >> 32);
                v[c0 + t] = (unsigned)key[t];
            }
            __syncthreads();
        }
    }
}

// The fit path's rasteriser forward: long tiles split into chunks.
//
// FitBatch's 1024 raster blocks (4 views × 256 tiles) are one wave, so the
// kernels last as long as the longest tile's serial walk. Forward/Backward
// therefore split each tile's depth-sorted list into chunks of chunkLen
// Gaussians (a tile of at most chunkLen stays one chunk), one block per
// (tile, chunk): chunkPlan lists them, rasterChunk composites each chunk
// from T = 1, rasterMerge composes a tile's chunks in order (re-walking the
// chunk where the pixel's transmittance crosses stopAt, so the stop point
// and the last contributor are the sequential walk's) and stores, per
// chunk, the transmittance after it and the colour composited behind it:
// the state the backward's chunk blocks start from.

#include "composite.cuh"

#define FULLMASK 0xffffffffu

// chunkPlan (one block of 1024 threads) counts each tile's chunks,
// max(1, ⌈len/chunkLen⌉), in the blocks' tile order, and writes
// tileChunk[vt] = (first work item, chunk count), work[i] = (vt, chunk) and
// the number of work items to *nWork.
extern "C" __global__ void __launch_bounds__(1024)
    chunkPlan(const uint2* ranges, const unsigned* order, int nTiles, int chunkLen, uint2* tileChunk, uint2* work,
              unsigned* nWork) {
    __shared__ unsigned warpTot[32];
    __shared__ unsigned carry;
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    if (threadIdx.x == 0) carry = 0;
    __syncthreads();
    for (int base = 0; base < nTiles; base += 1024) {
        int i = base + (int)threadIdx.x;
        unsigned vt = 0, nc = 0;
        if (i < nTiles) {
            vt = order[i];
            uint2 r = ranges[vt];
            unsigned len = r.y - r.x;
            nc = len == 0 ? 1u : (len + (unsigned)chunkLen - 1) / (unsigned)chunkLen;
        }
        unsigned x = nc;  // inclusive scan within the warp
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            unsigned y = __shfl_up_sync(FULLMASK, x, o);
            if (lane >= o) x += y;
        }
        if (lane == 31) warpTot[wid] = x;
        __syncthreads();
        if (wid == 0) {
            unsigned t = warpTot[lane];
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                unsigned y = __shfl_up_sync(FULLMASK, t, o);
                if (lane >= o) t += y;
            }
            warpTot[lane] = t;
        }
        __syncthreads();
        unsigned first = carry + (wid > 0 ? warpTot[wid - 1] : 0u) + x - nc;
        if (i < nTiles) {
            tileChunk[vt] = make_uint2(first, nc);
            for (unsigned c = 0; c < nc; c++) work[first + c] = make_uint2(vt, c);
        }
        __syncthreads();
        if (threadIdx.x == 0) carry += warpTot[31];
        __syncthreads();
    }
    if (threadIdx.x == 0) *nWork = carry;
}

// rasterChunk: block b composites work item b's chunk of its tile front to
// back from T = 1 (the rules of rasterForward). A tile of one chunk writes
// the pixel's results as rasterForward does; otherwise the block stores the
// chunk's partials: colour and depth sums, and (T, last index) with T
// negated where the chunk alone reached stopAt.
extern "C" __global__ void __launch_bounds__(TILE_PIX, 8)
    rasterChunk(const View* views, const uint2* ranges, const uint2* work, const unsigned* nWork,
                const uint2* tileChunk, int chunkLen, const unsigned* vals, const float2* xy, const float4* conicOp,
                const float4* rgbd, float alphaMax, float stopAt, float bgR, float bgG, float bgB, float* outRGB,
                float* outAlpha, float* outDepth, float* finalT, int* lastOut, float4* partC, float2* partTL) {
    if (blockIdx.x >= *nWork) return;
    uint2 wk = work[blockIdx.x];
    unsigned vt = wk.x;
    TilePixel tp = tilePixel(views, vt);
    bool inside = tp.inside;
    float fx = tp.fx, fy = tp.fy;
    uint2 r = ranges[vt];
    unsigned lo = r.x + wk.y * (unsigned)chunkLen;
    unsigned hi = min(r.y, lo + (unsigned)chunkLen);
    Composite cs = {1.0f, 0, 0, 0, 0, -1, !inside, false};
    compositeRange(lo, hi, vals, xy, conicOp, rgbd, alphaMax, stopAt, fx, fy, cs);
    float T = cs.T, c0 = cs.c0, c1 = cs.c1, c2 = cs.c2, dep = cs.dep;
    int last = cs.last;
    if (!inside) return;
    if (tileChunk[vt].y > 1) {
        size_t q = (size_t)blockIdx.x * TILE_PIX + threadIdx.x;
        partC[q] = make_float4(c0, c1, c2, dep);
        partTL[q] = make_float2(cs.stopped ? -T : T, __int_as_float(last));
        return;
    }
    size_t o = tp.index();
    outRGB[3 * o] = c0 + T * bgR;
    outRGB[3 * o + 1] = c1 + T * bgG;
    outRGB[3 * o + 2] = c2 + T * bgB;
    float a = 1.0f - T;
    outAlpha[o] = a;
    outDepth[o] = a > 0 ? dep / a : 0.0f;
    finalT[o] = T;
    lastOut[o] = last;
}

// rasterStops (pass 1 of the merge, one block per tile of several
// chunks): per pixel, T_acc · T_k over the chunks in order up to the first
// chunk k where it would reach stopAt (or the chunk alone stopped): the
// chunk the pixel stops in. finalT and lastOut hold T_acc before it and k
// (−1: none) until rasterMerge writes the results.
extern "C" __global__ void __launch_bounds__(TILE_PIX)
    rasterStops(const View* views, const unsigned* order, const uint2* tileChunk, float stopAt, const float2* partTL,
                float* finalT, int* lastOut) {
    unsigned vt = order[blockIdx.x];
    uint2 tc = tileChunk[vt];
    if (tc.y <= 1) return;
    TilePixel tp = tilePixel(views, vt);
    if (!tp.inside) return;
    float T = 1.0f;
    int stop = -1;
    for (unsigned k = 0; k < tc.y; k++) {
        float2 pt = partTL[(size_t)(tc.x + k) * TILE_PIX + threadIdx.x];
        if (pt.x > 0.0f && T * pt.x > stopAt) {
            T *= pt.x;
        } else {
            stop = (int)k;
            break;
        }
    }
    size_t o = tp.index();
    finalT[o] = T;
    lastOut[o] = stop;
}

// rasterRewalk: block b (work item b: chunk k of a tile of several chunks)
// walks its chunk, from the T_acc rasterStops left, for the pixels that
// stop in it, with the rules of rasterForward (Gaussians through shared
// memory; blocks with no such pixel return), and stores the chunk's
// contribution in its partials: colour and depth (absolute weights), and
// (T after, last index) with T negated where the pixel stopped. rewalks,
// when not null, counts such pixels in chunks after a tile's first (tests).
extern "C" __global__ void __launch_bounds__(TILE_PIX, 8)
    rasterRewalk(const View* views, const uint2* ranges, const uint2* work, const unsigned* nWork,
                 const uint2* tileChunk, int chunkLen, const unsigned* vals, const float2* xy, const float4* conicOp,
                 const float4* rgbd, float alphaMax, float stopAt, const float* finalT, const int* lastOut,
                 float4* partC, float2* partTL, unsigned* rewalks) {
    if (blockIdx.x >= *nWork) return;
    uint2 wk = work[blockIdx.x];
    unsigned vt = wk.x;
    if (tileChunk[vt].y <= 1) return;
    TilePixel tp = tilePixel(views, vt);
    bool inside = tp.inside;
    float fx = tp.fx, fy = tp.fy;
    bool mine = false;
    float T = 1.0f;
    if (inside) {
        size_t o = tp.index();
        mine = lastOut[o] == (int)wk.y;
        T = finalT[o];
    }
    if (!__syncthreads_or(mine)) return;
    if (mine && rewalks != 0 && wk.y > 0) atomicAdd(rewalks, 1u);
    uint2 r = ranges[vt];
    unsigned lo = r.x + wk.y * (unsigned)chunkLen;
    unsigned hi = min(r.y, lo + (unsigned)chunkLen);
    Composite cs = {T, 0, 0, 0, 0, -1, !mine, false};
    compositeRange(lo, hi, vals, xy, conicOp, rgbd, alphaMax, stopAt, fx, fy, cs);
    T = cs.T;
    float c0 = cs.c0, c1 = cs.c1, c2 = cs.c2, dep = cs.dep;
    int last = cs.last;
    bool stopped = cs.stopped;
    if (!mine) return;
    size_t q = (size_t)blockIdx.x * TILE_PIX + threadIdx.x;
    partC[q] = make_float4(c0, c1, c2, dep);
    partTL[q] = make_float2(stopped ? -T : T, __int_as_float(last));
}

// rasterMerge (pass 2): block b composes the chunks of tile order[b]
// (tiles of one chunk are done) per pixel in order: T_acc · T_k while that
// stays above stopAt, and in the chunk where it would not (or the chunk
// alone stopped) rasterRewalk's walk from T_acc with the exact rules, so
// the pixel stops where the sequential walk stops. It writes the pixel's
// results and, per chunk k, (T after chunk k) into partTL[k].x and the
// colour composited behind chunk k (chunks after it) into partC[k].xyz.
extern "C" __global__ void __launch_bounds__(TILE_PIX)
    rasterMerge(const View* views, const uint2* ranges, const unsigned* order, const uint2* tileChunk, int chunkLen,
                const unsigned* vals, const float2* xy, const float4* conicOp, const float4* rgbd, float alphaMax,
                float stopAt, float bgR, float bgG, float bgB, float* outRGB, float* outAlpha, float* outDepth,
                float* finalT, int* lastOut, float4* partC, float2* partTL) {
    unsigned vt = order[blockIdx.x];
    uint2 tc = tileChunk[vt];
    if (tc.y <= 1) return;
    TilePixel tp = tilePixel(views, vt);
    if (!tp.inside) return;
    float fx = tp.fx, fy = tp.fy;
    uint2 r = ranges[vt];
    size_t o = tp.index();
    int stopChunk = lastOut[o];  // rasterStops' chunk, rewalked by rasterRewalk
    float T = 1.0f, c0 = 0, c1 = 0, c2 = 0, dep = 0;
    int last = -1;
    bool done = false;
    for (unsigned k = 0; k < tc.y; k++) {
        size_t q = (size_t)(tc.x + k) * TILE_PIX + threadIdx.x;
        float e0 = 0, e1 = 0, e2 = 0;  // chunk k's share of the colour
        if (!done) {
            float4 pc = partC[q];
            float2 pt = partTL[q];
            float Tk = fabsf(pt.x);
            if ((int)k == stopChunk) {
                // rasterRewalk's result: absolute contributions from T_acc.
                e0 = pc.x;
                e1 = pc.y;
                e2 = pc.z;
                dep += pc.w;
                T = Tk;
                int lk = __float_as_int(pt.y);
                if (lk >= 0) last = lk;
                done = pt.x < 0.0f;
            } else if (pt.x > 0.0f && T * Tk > stopAt) {
                e0 = T * pc.x;
                e1 = T * pc.y;
                e2 = T * pc.z;
                dep += T * pc.w;
                T *= Tk;
                int lk = __float_as_int(pt.y);
                if (lk >= 0) last = lk;
            } else {
                // Only where rasterStops' products rounded otherwise than
                // these (they are the same operations): walk it here.
                unsigned lo = r.x + k * (unsigned)chunkLen;
                unsigned hi = min(r.y, lo + (unsigned)chunkLen);
                for (unsigned p = lo; p < hi; p++) {
                    unsigned g = vals[p];
                    float2 m = xy[g];
                    float4 co = conicOp[g];
                    float dx = m.x - fx, dy = m.y - fy;
                    float power = gaussPower(co.x, co.y, co.z, dx, dy);
                    if (power < powerFloor(co.w)) continue;
                    float G = __expf(power);
                    float alpha = fminf(alphaMax, co.w * G);
                    if (alpha < ALPHA_MIN) continue;
                    float next = T * (1.0f - alpha);
                    if (next <= stopAt) {
                        done = true;
                        break;
                    }
                    float4 c = rgbd[g];
                    float wgt = alpha * T;
                    e0 += c.x * wgt;
                    e1 += c.y * wgt;
                    e2 += c.z * wgt;
                    dep += c.w * wgt;
                    T = next;
                    last = (int)p;
                }
            }
            c0 += e0;
            c1 += e1;
            c2 += e2;
        }
        partC[q] = make_float4(e0, e1, e2, 0.0f);
        partTL[q] = make_float2(T, 0.0f);
    }
    float s0 = 0, s1 = 0, s2 = 0;
    for (int k = (int)tc.y - 1; k >= 0; k--) {
        size_t q = (size_t)(tc.x + (unsigned)k) * TILE_PIX + threadIdx.x;
        float4 e = partC[q];
        partC[q] = make_float4(s0, s1, s2, 0.0f);
        s0 += e.x;
        s1 += e.y;
        s2 += e.z;
    }
    outRGB[3 * o] = c0 + T * bgR;
    outRGB[3 * o + 1] = c1 + T * bgG;
    outRGB[3 * o + 2] = c2 + T * bgB;
    float a = 1.0f - T;
    outAlpha[o] = a;
    outDepth[o] = a > 0 ? dep / a : 0.0f;
    finalT[o] = T;
    lastOut[o] = last;
}

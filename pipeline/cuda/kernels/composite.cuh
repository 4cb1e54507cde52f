// Front-to-back compositing of one tile's depth-sorted Gaussian list
// (docs/algorithms.md §4.3), shared by the forward rasterisers (raster.cu, chunk.cu).
#pragma once
#include "common.cuh"

// Composite is one pixel's compositing state.
struct Composite {
    float T;                  // transmittance
    float c0, c1, c2, dep;    // colour and depth, weighted by α·T
    int last;                 // list index of the last Gaussian composited (−1: none)
    bool done;                // the pixel takes no more Gaussians
    bool stopped;             // it reached stopAt (as opposed to starting done)
};

// compositeRange composites list entries [lo, hi) of vals onto each
// thread's pixel centre (fx, fy), 256 Gaussians at a time through shared
// memory (mean, power floor and opacity packed in one float4, the conic in
// another: two shared loads per Gaussian-pixel pair until a hit). Every
// thread of the 256-thread block must call it; the block leaves early when
// all its pixels are done. A pixel stops where T·(1−α) would reach stopAt,
// without compositing that Gaussian.
__device__ __forceinline__ void compositeRange(unsigned lo, unsigned hi, const unsigned* vals, const float2* xy,
                                               const float4* conicOp, const float4* rgbd, float alphaMax,
                                               float stopAt, float fx, float fy, Composite& a) {
    __shared__ float4 sxyf[TILE_PIX];  // mean x, y, power floor, opacity
    __shared__ float4 sco[TILE_PIX];   // conic A, B, C
    __shared__ float4 scol[TILE_PIX];  // colour, depth
    int toDo = (int)(hi - lo);
    for (unsigned start = lo; start < hi; start += TILE_PIX, toDo -= TILE_PIX) {
        if (__syncthreads_count(a.done) == TILE_PIX) break;
        unsigned p = start + threadIdx.x;
        if (p < hi) {
            unsigned g = vals[p];
            float2 m = xy[g];
            float4 co = conicOp[g];
            sxyf[threadIdx.x] = make_float4(m.x, m.y, powerFloor(co.w), co.w);
            sco[threadIdx.x] = co;
            scol[threadIdx.x] = rgbd[g];
        }
        __syncthreads();
        int cnt = min(TILE_PIX, toDo);
        for (int j = 0; !a.done && j < cnt; j++) {
            float4 mf = sxyf[j];
            float4 co = sco[j];
            float dx = mf.x - fx, dy = mf.y - fy;
            float power = gaussPower(co.x, co.y, co.z, dx, dy);
            if (power < mf.z) continue;
            float G = __expf(power);
            float alpha = fminf(alphaMax, mf.w * G);
            if (alpha < ALPHA_MIN) continue;
            float next = a.T * (1.0f - alpha);
            if (next <= stopAt) {
                a.done = a.stopped = true;
                continue;
            }
            float4 c = scol[j];
            float wgt = alpha * a.T;
            a.c0 += c.x * wgt;
            a.c1 += c.y * wgt;
            a.c2 += c.z * wgt;
            a.dep += c.w * wgt;
            a.T = next;
            a.last = (int)start + j;
        }
    }
}

// Tile rasterisation forward (docs/algorithms.md §4.3): one 256-thread block per 16x16 tile of
// one view (the tile order[blockIdx.x], centre tiles first), one thread per
// pixel, the tile's list composited front to back (compositeRange).
#include "composite.cuh"

// At most 32 registers (8 blocks of 256 per SM): the fit's 4×256² batch
// has 1024 blocks, one wave over 132 SMs at 8 per SM, two at 7.
extern "C" __global__ void __launch_bounds__(TILE_PIX, 8)
    rasterForward(const View* views, const uint2* ranges, const unsigned* order, const unsigned* vals, const float2* xy,
                  const float4* conicOp, const float4* rgbd, float alphaMax, float stopAt, float bgR, float bgG,
                  float bgB, float* outRGB, float* outAlpha, float* outDepth, float* finalT, int* lastOut) {
    // Block b takes tile order[b] (view·tiles + tile): the host lists the
    // tiles nearest the image centres (the longest lists, for an object in
    // view) first, so they start in the first wave.
    unsigned vt = order[blockIdx.x];
    TilePixel tp = tilePixel(views, vt);
    bool inside = tp.inside;
    float fx = tp.fx, fy = tp.fy;
    uint2 r = ranges[vt];
    Composite cs = {1.0f, 0, 0, 0, 0, -1, !inside, false};
    compositeRange(r.x, r.y, vals, xy, conicOp, rgbd, alphaMax, stopAt, fx, fy, cs);
    float T = cs.T, c0 = cs.c0, c1 = cs.c1, c2 = cs.c2, dep = cs.dep;
    int last = cs.last;
    if (!inside) return;
    size_t o = tp.index();
    outRGB[3 * o] = c0 + T * bgR;
    outRGB[3 * o + 1] = c1 + T * bgG;
    outRGB[3 * o + 2] = c2 + T * bgB;
    float a = 1.0f - T;
    outAlpha[o] = a;
    outDepth[o] = a > 0 ? dep / a : 0.0f;
    if (finalT != 0) {
        finalT[o] = T;
        lastOut[o] = last;
    }
}

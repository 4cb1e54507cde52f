// Tile rasterisation forward (§4.3): one 256-thread block per 16x16 tile of
// one view (the tile order[blockIdx.x], centre tiles first), one thread per
// pixel, Gaussians fetched 256 at a
// time into shared memory (mean, power floor and opacity packed in one
// float4, the conic in another: two shared loads per Gaussian-pixel pair
// until a hit) and composited front to back.
#include "common.cuh"

// At most 32 registers (8 blocks of 256 per SM): the fit's 4×256² batch
// has 1024 blocks, one wave over 132 SMs at 8 per SM, two at 7.
extern "C" __global__ void __launch_bounds__(TILE_PIX, 8)
    rasterForward(const View* views, const uint2* ranges, const unsigned* order, const unsigned* vals, const float2* xy,
                  const float4* conicOp, const float4* rgbd, float alphaMax, float stopAt, float bgR, float bgG,
                  float bgB, float* outRGB, float* outAlpha, float* outDepth, float* finalT, int* lastOut) {
    __shared__ float4 sxyf[TILE_PIX];  // mean x, y, power floor, opacity
    __shared__ float4 sco[TILE_PIX];   // conic A, B, C
    __shared__ float4 scol[TILE_PIX];
    // Block b takes tile order[b] (view·tiles + tile): the host lists the
    // tiles nearest the image centres (the longest lists, for an object in
    // view) first, so they start in the first wave.
    int tilesX = views[0].tilesX, tilesY = views[0].tilesY;
    unsigned vt = order[blockIdx.x];
    int view = (int)(vt / (unsigned)(tilesX * tilesY));
    int tile = (int)(vt % (unsigned)(tilesX * tilesY));
    int w = views[view].w, h = views[view].h;
    int px = (tile % tilesX) * TILE + (threadIdx.x & (TILE - 1));
    int py = (tile / tilesX) * TILE + (threadIdx.x / TILE);
    bool inside = px < w && py < h;
    float fx = (float)px + 0.5f, fy = (float)py + 0.5f;
    uint2 r = ranges[vt];
    bool done = !inside;
    float T = 1.0f, c0 = 0, c1 = 0, c2 = 0, dep = 0;
    int last = -1;
    int toDo = (int)(r.y - r.x);
    for (unsigned start = r.x; start < r.y; start += TILE_PIX, toDo -= TILE_PIX) {
        if (__syncthreads_count(done) == TILE_PIX) break;
        unsigned p = start + threadIdx.x;
        if (p < r.y) {
            unsigned g = vals[p];
            float2 m = xy[g];
            float4 co = conicOp[g];
            sxyf[threadIdx.x] = make_float4(m.x, m.y, powerFloor(co.w), co.w);
            sco[threadIdx.x] = co;
            scol[threadIdx.x] = rgbd[g];
        }
        __syncthreads();
        int cnt = min(TILE_PIX, toDo);
        for (int j = 0; !done && j < cnt; j++) {
            float4 mf = sxyf[j];
            float4 co = sco[j];
            float dx = mf.x - fx, dy = mf.y - fy;
            float power = gaussPower(co.x, co.y, co.z, dx, dy);
            if (power < mf.z) continue;
            float G = __expf(power);
            float alpha = fminf(alphaMax, mf.w * G);
            if (alpha < ALPHA_MIN) continue;
            float next = T * (1.0f - alpha);
            if (next <= stopAt) {
                done = true;
                continue;
            }
            float4 c = scol[j];
            float wgt = alpha * T;
            c0 += c.x * wgt;
            c1 += c.y * wgt;
            c2 += c.z * wgt;
            dep += c.w * wgt;
            T = next;
            last = (int)start + j;
        }
    }
    if (!inside) return;
    size_t o = (size_t)view * (size_t)(w * h) + (size_t)(py * w + px);
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

// Preprocessing and binning (§4.1, §4.2): one thread per (view, Gaussian)
// projects it, then each binned Gaussian writes one (tile, depth) key per
// tile of its rectangle, and tileRanges finds each tile's span in the sorted
// keys. A batch of views of one size shares one key space: tile ids run
// view·tilesPerView + tile.
#include "project.cuh"

extern "C" __global__ void preprocess(const View* views, float nearZ, int perAxis, const float* pos,
                                      const float* logScale, const float* rot, const float* opLogit,
                                      const float* sh, int n, int k, int shDeg, float2* xy, float4* conicOp,
                                      float4* rgbd, int4* rects, unsigned* tilesTouched) {
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
        cnt = (unsigned)((p.rect[1] - p.rect[0]) * (p.rect[3] - p.rect[2]));
        xy[gi] = make_float2(p.mean[0], p.mean[1]);
        conicOp[gi] = make_float4(p.conic[0], p.conic[1], p.conic[2], p.op);
        rgbd[gi] = make_float4(p.col[0], p.col[1], p.col[2], p.tc[2]);
        rects[gi] = make_int4(p.rect[0], p.rect[1], p.rect[2], p.rect[3]);
    }
    tilesTouched[gi] = cnt;
}

// duplicateKeys writes key (tile << 32) | float_bits(depth) and value gi for
// every tile a binned Gaussian touches, at its exclusive-scan offset. Keys of
// one Gaussian are written in row-major tile order, and Gaussians in index
// order, so a stable sort leaves equal depths in index order, like the CPU.
extern "C" __global__ void duplicateKeys(int total, int n, const View* views, const unsigned* tilesTouched,
                                         const unsigned* offsets, const int4* rects, const float4* rgbd,
                                         unsigned long long* keys, unsigned* vals) {
    int gi = blockIdx.x * blockDim.x + threadIdx.x;
    if (gi >= total || tilesTouched[gi] == 0) return;
    int view = gi / n;
    int tilesX = views[view].tilesX;
    unsigned long long tileBase = (unsigned long long)view * (unsigned long long)(tilesX * views[view].tilesY);
    unsigned off = offsets[gi];
    unsigned long long depth = __float_as_uint(rgbd[gi].w);
    int4 r = rects[gi];
    for (int y = r.z; y < r.w; y++) {
        for (int x = r.x; x < r.y; x++) {
            unsigned long long tile = tileBase + (unsigned long long)(y * tilesX + x);
            keys[off] = (tile << 32) | depth;
            vals[off] = (unsigned)gi;
            off++;
        }
    }
}

// tileRanges sets ranges[tile] = [start, end) in the sorted keys; ranges
// must be zeroed first (empty tiles stay [0, 0)).
extern "C" __global__ void tileRanges(const unsigned long long* keys, unsigned n, uint2* ranges) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned t = (unsigned)(keys[i] >> 32);
    if (i == 0) {
        ranges[t].x = 0;
    } else {
        unsigned p = (unsigned)(keys[i - 1] >> 32);
        if (p != t) {
            ranges[p].y = i;
            ranges[t].x = i;
        }
    }
    if (i == n - 1) ranges[t].y = n;
}

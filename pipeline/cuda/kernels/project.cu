// Preprocessing and binning (§4.1, §4.2): one thread per (view, Gaussian)
// projects it; the Gaussians are sorted by (view, depth); walking them in
// that order each writes one key per tile it touches, a stable sort by tile
// id groups them (each tile's list stays depth-ordered: the same order as
// the reference's single (tile, depth) sort, with far fewer key bits), and
// tileRanges finds each tile's span. A batch of views of one size shares
// one key space: tile ids run view·tilesPerView + tile.
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

// duplicateSorted walks the Gaussians in depth order and writes key = global
// tile id and value gi for every tile each one touches, at its scanned
// offset. A stable sort by tile then leaves every tile's list depth-ordered
// (the CPU's bin does the same walk), so the sort needs only the tile bits.
extern "C" __global__ void duplicateSorted(int total, int n, const View* views, const unsigned* order,
                                           const unsigned* tilesTouched, const unsigned* offsets, const int4* rects,
                                           unsigned* keys, unsigned* vals) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= total) return;
    unsigned gi = order[j];
    if (tilesTouched[gi] == 0) return;
    int view = (int)(gi / (unsigned)n);
    int tilesX = views[view].tilesX;
    unsigned tileBase = (unsigned)view * (unsigned)(tilesX * views[view].tilesY);
    unsigned off = offsets[j];
    int4 r = rects[gi];
    for (int y = r.z; y < r.w; y++) {
        for (int x = r.x; x < r.y; x++) {
            keys[off] = tileBase + (unsigned)(y * tilesX + x);
            vals[off] = gi;
            off++;
        }
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

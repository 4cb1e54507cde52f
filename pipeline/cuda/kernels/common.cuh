// Shared definitions of the splat kernels. The constants and rules are the
// CPU engine's (pipeline/splat raster_mode.go, project.go; docs
// docs/algorithms.md §4); keep both in step.
#pragma once

#define TILE 16
#define TILE_PIX 256
#define ALPHA_MIN (1.0f / 255.0f)
#define LOW_PASS 0.3f
#define FRUSTUM_GUARD 0.3f
#define GSPLAT_EXTEND_MAX 3.33f
#define CLASSIC_SIGMAS 3.0f
#define GRAD_SLOTS 9

// One camera, laid out exactly as viewParams in pipeline/cuda/params.go
// (27 four-byte words).
struct View {
    float r[9];  // world-to-camera rotation, row-major
    float t[3];
    float campos[3];
    float fx, fy, cx, cy;
    float limXNeg, limXPos, limYNeg, limYPos;  // t_x/t_z clamp
    int w, h, tilesX, tilesY;
};

// The mode constants that differ between classic and gsplat.
struct Mode {
    float nearZ;
    int perAxis;  // gsplat's opacity-aware per-axis radius and opacity cull
};

// The cloud's arrays, pre-activation, as splat.Cloud stores them.
struct CloudPtrs {
    const float* pos;
    const float* logScale;
    const float* rot;
    const float* opLogit;
    const float* sh;
    int n;
    int k;  // SH coefficients per channel of the cloud
};

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// gaussAlpha is the one place α is computed, so the forward and backward
// kernels see the same bits: G = exp(power), raw = o·G.
__device__ __forceinline__ float gaussPower(float A, float B, float C, float dx, float dy) {
    return -0.5f * (A * dx * dx + C * dy * dy) - B * dx * dy;
}

// powerFloor returns a power below which α = o·exp(power) is certainly
// under 1/255: log(1/(255·o)) less a margin of 1e-3 that covers the error
// of __expf. Skipping such pairs before the exponential changes no result:
// every pair that is not skipped still takes the exact α test.
__device__ __forceinline__ float powerFloor(float op) { return logf(ALPHA_MIN / op) - 1e-3f; }

// TilePixel is a raster thread's pixel: thread threadIdx.x of the block
// that renders tile vt (view·tilesPerView + tile; 16×16 pixels, row by row).
struct TilePixel {
    int view, w, h, px, py;
    bool inside;   // in the image (edge tiles overhang it)
    float fx, fy;  // its centre

    // index is the pixel's position in the batch's images (view-major).
    __device__ __forceinline__ size_t index() const {
        return (size_t)view * (size_t)(w * h) + (size_t)(py * w + px);
    }
};

__device__ __forceinline__ TilePixel tilePixel(const View* views, unsigned vt) {
    TilePixel p;
    int tilesX = views[0].tilesX, tiles = tilesX * views[0].tilesY;
    int tile = (int)(vt % (unsigned)tiles);
    p.view = (int)(vt / (unsigned)tiles);
    p.w = views[p.view].w;
    p.h = views[p.view].h;
    p.px = (tile % tilesX) * TILE + (threadIdx.x & (TILE - 1));
    p.py = (tile / tilesX) * TILE + (threadIdx.x / TILE);
    p.inside = p.px < p.w && p.py < p.h;
    p.fx = (float)p.px + 0.5f;
    p.fy = (float)p.py + 0.5f;
    return p;
}


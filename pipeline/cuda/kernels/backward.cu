// Backward pass (docs/algorithms.md §4.4), the device twin of splat's backTile and
// backGaussian: rasterBackward re-walks each (tile, chunk) of the forward's
// chunk plan back to front (the chunks of a tile in parallel, each from the
// state rasterMerge stored at its end) and adds
// every Gaussian's screen-space gradient (GRAD_SLOTS per (view, Gaussian)):
// each warp reduce-scatters its nine sums with a butterfly into a
// block-wide shared buffer, flushed with one global add per slot and
// Gaussian per 256-Gaussian batch; gaussBackward chains those to the cloud's
// parameters and the densification statistics.
#include "project.cuh"

#define FULL 0xffffffffu
enum { G_MX, G_MY, G_A, G_B, G_C, G_OP, G_R, G_G, G_BL };

__device__ __forceinline__ float warpSum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

// warpScatter9 sums each of the nine slots v[0..8] over the warp and
// leaves slot s's total in the lanes whose slotOfLane(lane) is s (two lanes
// per slot; seven lanes get -1). It is a butterfly reduce-scatter: each
// xor step keeps half of the live values and sends the other half to the
// partner, so it costs 5+3+2+1+1 = 12 shuffles instead of 9×5.
__device__ __forceinline__ float warpScatter9(const float* v, int lane) {
    bool up = lane & 16;
    float w[5];
#pragma unroll
    for (int i = 0; i < 5; i++) {
        float a = v[i], b = i < 4 ? v[5 + i] : 0.0f;
        w[i] = (up ? b : a) + __shfl_xor_sync(FULL, up ? a : b, 16);
    }
    up = lane & 8;
    float x[3];
#pragma unroll
    for (int i = 0; i < 3; i++) {
        float a = w[i], b = i < 2 ? w[3 + i] : 0.0f;
        x[i] = (up ? b : a) + __shfl_xor_sync(FULL, up ? a : b, 8);
    }
    up = lane & 4;
    float y[2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        float a = x[i], b = i < 1 ? x[2] : 0.0f;
        y[i] = (up ? b : a) + __shfl_xor_sync(FULL, up ? a : b, 4);
    }
    up = lane & 2;
    float z = (up ? y[1] : y[0]) + __shfl_xor_sync(FULL, up ? y[0] : y[1], 2);
    return z + __shfl_xor_sync(FULL, z, 1);
}

// slotOfLane is the slot whose warp total warpScatter9 leaves in lane, or
// -1 for a padding lane; of each lane pair (lane, lane^1) only the even
// lane gets the slot, so each slot is written once.
__device__ __forceinline__ int slotOfLane(int lane) {
    if (lane & 1) return -1;
    int i3 = (lane >> 1) & 1;
    int i2 = ((lane >> 2) & 1) * 2 + i3;
    int i1 = ((lane >> 3) & 1) * 3 + i2;
    int s = ((lane >> 4) & 1) * 5 + i1;
    return (i2 < 3 && i1 < 5 && s < GRAD_SLOTS) ? s : -1;
}

// SGRAD_STRIDE pads each slot's row of the block's gradient buffer so the
// nine slots of one Gaussian fall in nine different banks.
#define SGRAD_STRIDE (TILE_PIX + 1)

extern "C" __global__ void __launch_bounds__(TILE_PIX)
    rasterBackward(const View* views, const uint2* ranges, const uint2* work, const unsigned* nWork,
                   const uint2* tileChunk, int chunkLen, const unsigned* vals, const float2* xy, const float4* conicOp,
                   const float4* rgbd, float alphaMax, float bgR, float bgG, float bgB, const float* finalT,
                   const int* lastIn, const float4* partC, const float2* partTL, const float* dRGB,
                   const float* dAlpha, float* acc) {
    __shared__ unsigned sid[TILE_PIX];
    __shared__ float4 sxyf[TILE_PIX];  // mean x, y, power floor, opacity
    __shared__ float4 sco[TILE_PIX];   // conic A, B, C
    __shared__ float4 scol[TILE_PIX];
    __shared__ float sgrad[GRAD_SLOTS * SGRAD_STRIDE];
    __shared__ int smax;
    // Block b takes work item b, chunk wk.y of tile wk.x (view·tiles +
    // tile), in the forward's chunk plan: the tiles nearest the image
    // centres (the longest lists, for an object in view) first.
    if (blockIdx.x >= *nWork) return;
    uint2 wk = work[blockIdx.x];
    unsigned vt = wk.x;
    TilePixel tp = tilePixel(views, vt);
    bool inside = tp.inside;
    float fx = tp.fx, fy = tp.fy;
    uint2 r = ranges[vt];
    int clo = (int)(r.x + wk.y * (unsigned)chunkLen);
    int chi = (int)min(r.y, (unsigned)clo + (unsigned)chunkLen);
    bool split = tileChunk[vt].y > 1;
    if (threadIdx.x == 0) smax = -1;
#pragma unroll
    for (int s = 0; s < GRAD_SLOTS; s++) sgrad[s * SGRAD_STRIDE + threadIdx.x] = 0.0f;
    __syncthreads();
    float T = 0, g0 = 0, g1 = 0, g2 = 0, bgT = 0, s0 = 0, s1 = 0, s2 = 0;
    int last = -1;
    if (inside) {
        size_t o = tp.index();
        float Tf = finalT[o];
        last = lastIn[o];
        g0 = dRGB[3 * o];
        g1 = dRGB[3 * o + 1];
        g2 = dRGB[3 * o + 2];
        float ga = dAlpha != 0 ? dAlpha[o] : 0.0f;
        bgT = Tf * (ga - (g0 * bgR + g1 * bgG + g2 * bgB));
        // The walk starts at the chunk's end: T after it and the colour
        // composited behind it, as rasterMerge stored them (a tile of one
        // chunk: the pixel's final T and nothing behind).
        T = Tf;
        if (split) {
            size_t q = (size_t)blockIdx.x * TILE_PIX + threadIdx.x;
            T = partTL[q].x;
            float4 s = partC[q];
            s0 = s.x;
            s1 = s.y;
            s2 = s.z;
        }
        atomicMax(&smax, last);
    }
    __syncthreads();
    int end = min(chi, smax + 1);
    int lane = threadIdx.x & 31;
    int mySlot = slotOfLane(lane);
    float* myRow = sgrad + (mySlot < 0 ? 0 : mySlot) * SGRAD_STRIDE;
    for (int hi = end; hi > clo; hi -= TILE_PIX) {
        int lo = max(clo, hi - TILE_PIX);
        int cnt = hi - lo;
        __syncthreads();
        if ((int)threadIdx.x < cnt) {
            unsigned g = vals[lo + threadIdx.x];
            sid[threadIdx.x] = g;
            float2 m = xy[g];
            float4 co = conicOp[g];
            sxyf[threadIdx.x] = make_float4(m.x, m.y, powerFloor(co.w), co.w);
            sco[threadIdx.x] = co;
            scol[threadIdx.x] = rgbd[g];
        }
        __syncthreads();
        for (int j = cnt - 1; j >= 0; j--) {
            float d[GRAD_SLOTS] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
            bool hit = false;
            if (inside && lo + j <= last) {
                float4 mf = sxyf[j];
                float4 co = sco[j];
                float dx = mf.x - fx, dy = mf.y - fy;
                float power = gaussPower(co.x, co.y, co.z, dx, dy);
                float G = power < mf.z ? 0.0f : __expf(power);
                float raw = mf.w * G;
                float alpha = fminf(alphaMax, raw);
                if (alpha >= ALPHA_MIN) {
                    hit = true;
                    float4 c = scol[j];
                    float om = 1.0f - alpha;
                    // One correctly rounded reciprocal instead of three
                    // IEEE divisions (each a slow-path-guarded sequence).
                    float iom = __frcp_rn(om);
                    float Tn = T * iom;
                    float wgt = alpha * Tn;
                    d[G_R] = wgt * g0;
                    d[G_G] = wgt * g1;
                    d[G_BL] = wgt * g2;
                    float dAP = Tn * (c.x * g0 + c.y * g1 + c.z * g2) - (s0 * g0 + s1 * g1 + s2 * g2) * iom + bgT * iom;
                    s0 += c.x * wgt;
                    s1 += c.y * wgt;
                    s2 += c.z * wgt;
                    T = Tn;
                    if (raw < alphaMax) {
                        d[G_OP] = G * dAP;
                        float dp = alpha * dAP;
                        d[G_A] = -0.5f * dx * dx * dp;
                        d[G_B] = -dx * dy * dp;
                        d[G_C] = -0.5f * dy * dy * dp;
                        d[G_MX] = -(co.x * dx + co.y * dy) * dp;
                        d[G_MY] = -(co.z * dy + co.y * dx) * dp;
                    }
                }
            }
            if (__any_sync(FULL, hit)) {
                float tot = warpScatter9(d, lane);
                if (mySlot >= 0) atomicAdd(myRow + j, tot);
            }
        }
        // One global add per slot and Gaussian of this batch for the whole
        // block, instead of one per warp.
        __syncthreads();
        if ((int)threadIdx.x < cnt) {
            float* a = acc + (size_t)sid[threadIdx.x] * GRAD_SLOTS;
#pragma unroll
            for (int s = 0; s < GRAD_SLOTS; s++) {
                float v = sgrad[s * SGRAD_STRIDE + threadIdx.x];
                if (v != 0.0f) {
                    atomicAdd(a + s, v);
                    sgrad[s * SGRAD_STRIDE + threadIdx.x] = 0.0f;
                }
            }
        }
    }
}

// shDirGrad returns dd = Σ_{j≥1} (sh_j·dc) ∂b_j/∂(x, y, z), the gradient of
// the colour with respect to the (unnormalised-independent) direction.
__device__ __forceinline__ void shDirGrad(float x, float y, float z, int deg, const float* sh, const float* dc,
                                          float* dd) {
#define S(j) (sh[3 * (j)] * dc[0] + sh[3 * (j) + 1] * dc[1] + sh[3 * (j) + 2] * dc[2])
#define ADD(j, gx, gy, gz)     \
    {                          \
        float s_ = S(j);       \
        dd[0] += s_ * (gx);    \
        dd[1] += s_ * (gy);    \
        dd[2] += s_ * (gz);    \
    }
    dd[0] = dd[1] = dd[2] = 0;
    if (deg < 1) return;
    ADD(1, 0, -SH_C1, 0);
    ADD(2, 0, 0, SH_C1);
    ADD(3, -SH_C1, 0, 0);
    if (deg < 2) return;
    float xx = x * x, yy = y * y, zz = z * z;
    const float c20 = 1.0925484305920792f, c21 = -1.0925484305920792f, c22 = 0.31539156525252005f,
                c23 = -1.0925484305920792f, c24 = 0.5462742152960396f;
    ADD(4, c20 * y, c20 * x, 0);
    ADD(5, 0, c21 * z, c21 * y);
    ADD(6, -2 * c22 * x, -2 * c22 * y, 4 * c22 * z);
    ADD(7, c23 * z, 0, c23 * x);
    ADD(8, 2 * c24 * x, -2 * c24 * y, 0);
    if (deg < 3) return;
    const float c30 = -0.5900435899266435f, c31 = 2.890611442640554f, c32 = -0.4570457994644658f,
                c33 = 0.3731763325901154f, c34 = -0.4570457994644658f, c35 = 1.445305721320277f,
                c36 = -0.5900435899266435f;
    ADD(9, c30 * 6 * x * y, c30 * 3 * (xx - yy), 0);
    ADD(10, c31 * y * z, c31 * x * z, c31 * x * y);
    ADD(11, -2 * c32 * x * y, c32 * (4 * zz - xx - 3 * yy), 8 * c32 * y * z);
    ADD(12, -6 * c33 * x * z, -6 * c33 * y * z, c33 * (6 * zz - 3 * xx - 3 * yy));
    ADD(13, c34 * (4 * zz - 3 * xx - yy), -2 * c34 * x * y, 8 * c34 * x * z);
    ADD(14, 2 * c35 * x * z, -2 * c35 * y * z, c35 * (xx - yy));
    ADD(15, c36 * 3 * (xx - yy), -6 * c36 * x * y, 0);
#undef ADD
#undef S
}

extern "C" __global__ void gaussBackward(const View* views, float nearZ, int perAxis, const float* pos,
                                         const float* logScale, const float* rot, const float* opLogit,
                                         const float* sh, int n, int k, int shDeg, const float* acc, float* gPos,
                                         float* gLogScale, float* gRot, float* gOp, float* gSH, float* meanNDC,
                                         unsigned char* visible) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int view = blockIdx.y;
    if (i >= n) return;
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
    if (!p.visible) return;
    visible[i] = 1;
    if (!p.binned) return;
    const float* a = acc + ((size_t)view * n + i) * GRAD_SLOTS;
    float nx = a[G_MX] * 0.5f * (float)v.w, ny = a[G_MY] * 0.5f * (float)v.h;
    atomicAdd(meanNDC + i, sqrtf(nx * nx + ny * ny));
    atomicAdd(gOp + i, a[G_OP] * p.op * (1.0f - p.op));

    float dPos[3] = {0, 0, 0};
    float dc[3] = {a[G_R], a[G_G], a[G_BL]};
#pragma unroll
    for (int ch = 0; ch < 3; ch++)
        if (p.clampRGB & (1 << ch)) dc[ch] = 0;
    int nk = (shDeg + 1) * (shDeg + 1);
    const float* shi = sh + 3 * k * i;
    float* gsh = gSH + 3 * k * i;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        if (j < nk) {
            float b = p.basis[j];
            atomicAdd(gsh + 3 * j, b * dc[0]);
            atomicAdd(gsh + 3 * j + 1, b * dc[1]);
            atomicAdd(gsh + 3 * j + 2, b * dc[2]);
        }
    }
    if (nk > 1 && p.dirLen > 0) {
        float dd[3];
        shDirGrad(p.dir[0], p.dir[1], p.dir[2], shDeg, shi, dc, dd);
        float dot = dd[0] * p.dir[0] + dd[1] * p.dir[1] + dd[2] * p.dir[2];
#pragma unroll
        for (int ax = 0; ax < 3; ax++) dPos[ax] += (dd[ax] - p.dir[ax] * dot) / p.dirLen;
    }

    float A = p.conic[0], B = p.conic[1], C = p.conic[2];
    float g00 = a[G_A], g01 = 0.5f * a[G_B], g11 = a[G_C];
    float kg00 = A * g00 + B * g01, kg01 = A * g01 + B * g11;
    float kg10 = B * g00 + C * g01, kg11 = B * g01 + C * g11;
    float s00 = -(kg00 * A + kg01 * B);
    float s01 = -(kg00 * B + kg01 * C);
    float s11 = -(kg10 * B + kg11 * C);

    const float* m = p.m;
    const float* cv = p.cov;
    float sig[9] = {cv[0], cv[1], cv[2], cv[1], cv[3], cv[4], cv[2], cv[4], cv[5]};
    float sm[6];
#pragma unroll
    for (int col = 0; col < 3; col++) {
        sm[col] = s00 * m[col] + s01 * m[3 + col];
        sm[3 + col] = s01 * m[col] + s11 * m[3 + col];
    }
    float dSig[9];
#pragma unroll
    for (int rr = 0; rr < 3; rr++)
#pragma unroll
        for (int col = 0; col < 3; col++) dSig[3 * rr + col] = m[rr] * sm[col] + m[3 + rr] * sm[3 + col];
    float dM[6];
#pragma unroll
    for (int rr = 0; rr < 2; rr++)
#pragma unroll
        for (int col = 0; col < 3; col++)
            dM[3 * rr + col] =
                2 * (sm[3 * rr] * sig[col] + sm[3 * rr + 1] * sig[3 + col] + sm[3 * rr + 2] * sig[6 + col]);
    const float* W = v.r;
    float dJ00 = dM[0] * W[0] + dM[1] * W[1] + dM[2] * W[2];
    float dJ02 = dM[0] * W[6] + dM[1] * W[7] + dM[2] * W[8];
    float dJ11 = dM[3] * W[3] + dM[4] * W[4] + dM[5] * W[5];
    float dJ12 = dM[3] * W[6] + dM[4] * W[7] + dM[5] * W[8];

    float tx = p.tc[0], ty = p.tc[1], tz = p.tc[2];
    float iz = 1.0f / tz, iz2 = iz * iz;
    float dt0 = a[G_MX] * v.fx * iz;
    float dt1 = a[G_MY] * v.fy * iz;
    float dt2 = -(a[G_MX] * v.fx * tx + a[G_MY] * v.fy * ty) * iz2;
    dt2 -= (dJ00 * v.fx + dJ11 * v.fy) * iz2;
    if (p.clampX) {
        float txc = fminf(fmaxf(tx * iz, -v.limXNeg), v.limXPos) * tz;
        dt2 += dJ02 * v.fx * txc * iz2 * iz;
    } else {
        dt0 -= dJ02 * v.fx * iz2;
        dt2 += dJ02 * 2 * v.fx * tx * iz2 * iz;
    }
    if (p.clampY) {
        float tyc = fminf(fmaxf(ty * iz, -v.limYNeg), v.limYPos) * tz;
        dt2 += dJ12 * v.fy * tyc * iz2 * iz;
    } else {
        dt1 -= dJ12 * v.fy * iz2;
        dt2 += dJ12 * 2 * v.fy * ty * iz2 * iz;
    }
#pragma unroll
    for (int ax = 0; ax < 3; ax++) dPos[ax] += W[ax] * dt0 + W[3 + ax] * dt1 + W[6 + ax] * dt2;
    atomicAdd(gPos + 3 * i, dPos[0]);
    atomicAdd(gPos + 3 * i + 1, dPos[1]);
    atomicAdd(gPos + 3 * i + 2, dPos[2]);

    float dR[9];
    float dls[3] = {0, 0, 0};
#pragma unroll
    for (int rr = 0; rr < 3; rr++) {
#pragma unroll
        for (int col = 0; col < 3; col++) {
            float sc = p.s[col];
            float d = 2 * (dSig[3 * rr] * p.rot[col] * sc + dSig[3 * rr + 1] * p.rot[3 + col] * sc +
                           dSig[3 * rr + 2] * p.rot[6 + col] * sc);
            dR[3 * rr + col] = d * sc;
            dls[col] += d * p.rot[3 * rr + col] * sc;
        }
    }
    atomicAdd(gLogScale + 3 * i, dls[0]);
    atomicAdd(gLogScale + 3 * i + 1, dls[1]);
    atomicAdd(gLogScale + 3 * i + 2, dls[2]);

    float qw = p.qn[0], qx = p.qn[1], qy = p.qn[2], qz = p.qn[3];
    const float* d = dR;
    float dw = 2 * (-qz * d[1] + qy * d[2] + qz * d[3] - qx * d[5] - qy * d[6] + qx * d[7]);
    float dx = 2 * (qy * d[1] + qz * d[2] + qy * d[3] - 2 * qx * d[4] - qw * d[5] + qz * d[6] + qw * d[7] - 2 * qx * d[8]);
    float dy = 2 * (-2 * qy * d[0] + qx * d[1] + qw * d[2] + qx * d[3] + qz * d[5] - qw * d[6] + qz * d[7] - 2 * qy * d[8]);
    float dz = 2 * (-2 * qz * d[0] - qw * d[1] + qx * d[2] + qw * d[3] - 2 * qz * d[4] + qy * d[5] + qx * d[6] + qy * d[7]);
    float dot = qw * dw + qx * dx + qy * dy + qz * dz;
    float il = 1.0f / p.qlen;
    atomicAdd(gRot + 4 * i, (dw - qw * dot) * il);
    atomicAdd(gRot + 4 * i + 1, (dx - qx * dot) * il);
    atomicAdd(gRot + 4 * i + 2, (dy - qy * dot) * il);
    atomicAdd(gRot + 4 * i + 3, (dz - qz * dot) * il);
}

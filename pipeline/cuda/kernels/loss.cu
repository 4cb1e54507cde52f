// The fit's image loss on the device, the twin of pipeline/fit loss.go and
// ssim.go: (1−λd)·mean|x−y| + λd·(1 − SSIM(x, y)) + λa·mean ℓ(α − α*), SSIM
// with the separable 11-tap Gaussian window (σ 1.5, zero padding), and the
// gradients of all three terms. A batch of B renders of one size is laid
// out [view][row][col][channel]; the target of batch slot b is view
// (first + b) mod nViews of the views resident in pix, composited on the
// background per pixel. Blocks never straddle two views (blockIdx.y is the
// slot), so every per-view sum is reduced per warp and added with one
// double atomic.
//
// ssimBlurH → ssimMap → ssimGradH → lossGrad, then accumStats gathers the
// densification statistics of the step.
#define LOSS_THREADS 256
#define SSIM_R 5
#define SSIM_C1 1e-4f
#define SSIM_C2 9e-4f
#define FULL 0xffffffffu

__constant__ float ssimW[2 * SSIM_R + 1] = {
    1.028380084e-03f, 7.598758135e-03f, 3.600077213e-02f, 1.093606895e-01f, 2.130055377e-01f, 2.660117249e-01f,
    2.130055377e-01f, 1.093606895e-01f, 3.600077213e-02f, 7.598758135e-03f, 1.028380084e-03f};

// One resident view: offsets (in floats) of its straight RGB and its alpha.
struct LossView {
    unsigned rgb, alpha;
};

// target is the view's colour composited on the background, rounded as the
// CPU's View.composite rounds it (no fused multiply-add).
__device__ __forceinline__ float target(const float* pix, LossView v, int p, int c, float bg) {
    float a = pix[v.alpha + p];
    return __fadd_rn(__fmul_rn(pix[v.rgb + 3 * p + c], a), __fmul_rn(bg, __fsub_rn(1.0f, a)));
}

__device__ __forceinline__ float lossWarpSum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

// ssimBlurH writes the horizontal blurs of x, y, x², y² and x·y (five
// planes of 3·W·H·B values) into tmp.
extern "C" __global__ void ssimBlurH(const float* x, const float* pix, const LossView* views, int first, int nViews,
                                     int w, int h, float bg0, float bg1, float bg2, float* tmp) {
    int b = blockIdx.y;
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int hw = w * h;
    if (p >= hw) return;
    LossView v = views[(first + b) % nViews];
    size_t plane = (size_t)3 * hw * gridDim.y;
    size_t base = (size_t)3 * hw * b;
    int px = p % w, row = p - px;
    float bg[3] = {bg0, bg1, bg2};
    float s[5][3];
#pragma unroll
    for (int k = 0; k < 5; k++)
#pragma unroll
        for (int c = 0; c < 3; c++) s[k][c] = 0;
#pragma unroll
    for (int t = -SSIM_R; t <= SSIM_R; t++) {
        int q = px + t;
        if (q < 0 || q >= w) continue;
        float wt = ssimW[t + SSIM_R];
#pragma unroll
        for (int c = 0; c < 3; c++) {
            float xv = x[base + 3 * (row + q) + c];
            float yv = target(pix, v, row + q, c, bg[c]);
            s[0][c] += wt * xv;
            s[1][c] += wt * yv;
            s[2][c] += wt * xv * xv;
            s[3][c] += wt * yv * yv;
            s[4][c] += wt * xv * yv;
        }
    }
    size_t o = base + 3 * (size_t)p;
#pragma unroll
    for (int k = 0; k < 5; k++)
#pragma unroll
        for (int c = 0; c < 3; c++) tmp[k * plane + o + c] = s[k][c];
}

// ssimMap finishes the blurs vertically, evaluates SSIM per value and its
// partials ∂S/∂μx, ∂S/∂Pxx, ∂S/∂Pxy (three planes into abc), and adds the
// slot's sums of S, |x − y| and ℓ(α − α*) to sums[3·b + 0..2].
extern "C" __global__ void ssimMap(const float* x, const float* alpha, const float* pix, const LossView* views,
                                   int first, int nViews, int w, int h, float bg0, float bg1, float bg2, int alphaMSE,
                                   const float* tmp, float* abc, double* sums) {
    int b = blockIdx.y;
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int hw = w * h;
    float sS = 0, sL1 = 0, sA = 0;
    if (p < hw) {
        LossView v = views[(first + b) % nViews];
        size_t plane = (size_t)3 * hw * gridDim.y;
        size_t base = (size_t)3 * hw * b;
        int px = p % w, py = p / w;
        float bg[3] = {bg0, bg1, bg2};
        float m[5][3];
#pragma unroll
        for (int k = 0; k < 5; k++)
#pragma unroll
            for (int c = 0; c < 3; c++) m[k][c] = 0;
#pragma unroll
        for (int t = -SSIM_R; t <= SSIM_R; t++) {
            int q = py + t;
            if (q < 0 || q >= h) continue;
            float wt = ssimW[t + SSIM_R];
            size_t o = base + 3 * (size_t)(q * w + px);
#pragma unroll
            for (int k = 0; k < 5; k++)
#pragma unroll
                for (int c = 0; c < 3; c++) m[k][c] += wt * tmp[k * plane + o + c];
        }
        size_t o = base + 3 * (size_t)p;
#pragma unroll
        for (int c = 0; c < 3; c++) {
            float mx = m[0][c], my = m[1][c];
            float sxx = m[2][c] - mx * mx, syy = m[3][c] - my * my, sxy = m[4][c] - mx * my;
            float a1 = 2 * mx * my + SSIM_C1, a2 = 2 * sxy + SSIM_C2;
            float b1 = mx * mx + my * my + SSIM_C1, b2 = sxx + syy + SSIM_C2;
            float den = b1 * b2;
            float s = a1 * a2 / den;
            sS += s;
            abc[o + c] = 2 * my * (a2 - a1) / den - 2 * mx * s * (1 / b1 - 1 / b2);
            abc[plane + o + c] = -s / b2;
            abc[2 * plane + o + c] = 2 * a1 / den;
            sL1 += fabsf(x[o + c] - target(pix, v, p, c, bg[c]));
        }
        float da = alpha[(size_t)hw * b + p] - pix[v.alpha + p];
        sA = alphaMSE ? da * da : fabsf(da);
    }
    sS = lossWarpSum(sS);
    sL1 = lossWarpSum(sL1);
    sA = lossWarpSum(sA);
    if ((threadIdx.x & 31) == 0) {
        atomicAdd(sums + 3 * b, (double)sS);
        atomicAdd(sums + 3 * b + 1, (double)sL1);
        atomicAdd(sums + 3 * b + 2, (double)sA);
    }
}

// ssimGradH blurs the three partial planes of abc horizontally into the
// first three planes of tmp.
extern "C" __global__ void ssimGradH(const float* abc, int w, int h, float* tmp) {
    int b = blockIdx.y;
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int hw = w * h;
    if (p >= hw) return;
    size_t plane = (size_t)3 * hw * gridDim.y;
    size_t base = (size_t)3 * hw * b;
    int px = p % w, row = p - px;
    float s[3][3];
#pragma unroll
    for (int k = 0; k < 3; k++)
#pragma unroll
        for (int c = 0; c < 3; c++) s[k][c] = 0;
#pragma unroll
    for (int t = -SSIM_R; t <= SSIM_R; t++) {
        int q = px + t;
        if (q < 0 || q >= w) continue;
        float wt = ssimW[t + SSIM_R];
        size_t o = base + 3 * (size_t)(row + q);
#pragma unroll
        for (int k = 0; k < 3; k++)
#pragma unroll
            for (int c = 0; c < 3; c++) s[k][c] += wt * abc[k * plane + o + c];
    }
    size_t o = base + 3 * (size_t)p;
#pragma unroll
    for (int k = 0; k < 3; k++)
#pragma unroll
        for (int c = 0; c < 3; c++) tmp[k * plane + o + c] = s[k][c];
}

// lossGrad finishes the partials' blurs vertically and writes the loss
// gradients: dRGB = l1g·sign(x − y) + ssimK·(G∗a + 2x·G∗b + y·G∗c) and
// dAlpha = alphaG·sign(d) (L1) or 2·alphaG·d (MSE) with d = α − α*.
extern "C" __global__ void lossGrad(const float* x, const float* alpha, const float* pix, const LossView* views,
                                    int first, int nViews, int w, int h, float bg0, float bg1, float bg2,
                                    int alphaMSE, float l1g, float ssimK, float alphaG, const float* tmp,
                                    float* dRGB, float* dAlpha) {
    int b = blockIdx.y;
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int hw = w * h;
    if (p >= hw) return;
    LossView v = views[(first + b) % nViews];
    size_t plane = (size_t)3 * hw * gridDim.y;
    size_t base = (size_t)3 * hw * b;
    int px = p % w, py = p / w;
    float bg[3] = {bg0, bg1, bg2};
    float g[3][3];
#pragma unroll
    for (int k = 0; k < 3; k++)
#pragma unroll
        for (int c = 0; c < 3; c++) g[k][c] = 0;
#pragma unroll
    for (int t = -SSIM_R; t <= SSIM_R; t++) {
        int q = py + t;
        if (q < 0 || q >= h) continue;
        float wt = ssimW[t + SSIM_R];
        size_t o = base + 3 * (size_t)(q * w + px);
#pragma unroll
        for (int k = 0; k < 3; k++)
#pragma unroll
            for (int c = 0; c < 3; c++) g[k][c] += wt * tmp[k * plane + o + c];
    }
    size_t o = base + 3 * (size_t)p;
#pragma unroll
    for (int c = 0; c < 3; c++) {
        float xv = x[o + c];
        float yv = target(pix, v, p, c, bg[c]);
        float d = xv - yv;
        float l1 = d > 0 ? l1g : (d < 0 ? -l1g : 0.0f);
        dRGB[o + c] = l1 + ssimK * (g[0][c] + 2 * xv * g[1][c] + yv * g[2][c]);
    }
    size_t oa = (size_t)hw * b + p;
    float da = alpha[oa] - pix[v.alpha + p];
    if (alphaMSE) {
        dAlpha[oa] = 2 * alphaG * da;
    } else {
        dAlpha[oa] = da > 0 ? alphaG : (da < 0 ? -alphaG : 0.0f);
    }
}

// accumStats adds one step's view-space gradient norms to the statistics
// of the Gaussians it saw (fit's state.accumulate).
extern "C" __global__ void accumStats(const float* meanNDC, const unsigned char* visible, float* gradAccum,
                                      float* denom, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n || !visible[i]) return;
    gradAccum[i] += meanNDC[i];
    denom[i] += 1.0f;
}

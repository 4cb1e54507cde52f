// PyTorch-style Adam (β1 0.9, β2 0.999, ε 1e-15), the device twin of
// pipeline/fit's adamUpdate: element i takes step stepA when
// i mod period < nA, else stepB (the SH array's DC and higher-band rates).
extern "C" __global__ void adamStep(float* p, const float* g, float* m, float* v, unsigned n, float stepA,
                                    float stepB, float isq, unsigned period, unsigned nA) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float b1 = 0.9f, b2 = 0.999f;
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float step = (i % period) < nA ? stepA : stepB;
    p[i] -= step * mi / (sqrtf(vi) * isq + 1e-15f);
}

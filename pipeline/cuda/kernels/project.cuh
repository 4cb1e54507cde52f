// Per-Gaussian projection (docs/algorithms.md §4.1), the device twin of splat's viewCtx.project.
#pragma once
#include "common.cuh"

#define SH_C0 0.28209479177387814f
#define SH_C1 0.4886025119029199f

struct Proj {
    bool visible, binned, clampX, clampY;
    int rect[4];  // tiles [x0, x1) x [y0, y1)
    float tc[3];
    float qn[4];
    float qlen;
    float rot[9];
    float s[3];
    float cov[6];
    float m[6];
    float a, b, c;
    float conic[3];
    float mean[2];
    float op;
    float dir[3];
    float dirLen;
    float basis[16];
    float col[3];
    int clampRGB;
};

__device__ __forceinline__ void shBasis(float x, float y, float z, int deg, float* b) {
    b[0] = SH_C0;
    if (deg < 1) return;
    b[1] = -SH_C1 * y;
    b[2] = SH_C1 * z;
    b[3] = -SH_C1 * x;
    if (deg < 2) return;
    float xx = x * x, yy = y * y, zz = z * z;
    b[4] = 1.0925484305920792f * x * y;
    b[5] = -1.0925484305920792f * y * z;
    b[6] = 0.31539156525252005f * (2 * zz - xx - yy);
    b[7] = -1.0925484305920792f * x * z;
    b[8] = 0.5462742152960396f * (xx - yy);
    if (deg < 3) return;
    b[9] = -0.5900435899266435f * y * (3 * xx - yy);
    b[10] = 2.890611442640554f * x * y * z;
    b[11] = -0.4570457994644658f * y * (4 * zz - xx - yy);
    b[12] = 0.3731763325901154f * z * (2 * zz - 3 * xx - 3 * yy);
    b[13] = -0.4570457994644658f * x * (4 * zz - xx - yy);
    b[14] = 1.445305721320277f * z * (xx - yy);
    b[15] = -0.5900435899266435f * x * (xx - 3 * yy);
}

__device__ __forceinline__ int clampTile(int x, int hi) { return min(max(x, 0), hi); }

// rectFor sets the tile rectangle in the mode's own convention and reports
// whether the Gaussian survives the radius and on-screen culls.
__device__ __forceinline__ bool rectFor(const View& v, const Mode& md, Proj& out, float op, float a, float c,
                                        float det) {
    float mx = out.mean[0], my = out.mean[1];
    int tx = v.tilesX, ty = v.tilesY;
    if (!md.perAxis) {
        float mid = 0.5f * (a + c);
        float lam = mid + sqrtf(fmaxf(0.1f, mid * mid - det));
        float rad = ceilf(CLASSIC_SIGMAS * sqrtf(lam));
        float ix = mx - 0.5f, iy = my - 0.5f;
        out.rect[0] = clampTile(__float2int_rz((ix - rad) / TILE), tx);
        out.rect[1] = clampTile(__float2int_rz((ix + rad + TILE - 1) / TILE), tx);
        out.rect[2] = clampTile(__float2int_rz((iy - rad) / TILE), ty);
        out.rect[3] = clampTile(__float2int_rz((iy + rad + TILE - 1) / TILE), ty);
        return rad > 0 && (out.rect[1] - out.rect[0]) * (out.rect[3] - out.rect[2]) != 0;
    }
    float e = fminf(GSPLAT_EXTEND_MAX, sqrtf(2.0f * logf(op * 255.0f)));
    float rx = ceilf(e * sqrtf(a));
    float ry = ceilf(e * sqrtf(c));
    if (rx <= 0 && ry <= 0) return false;
    if (mx + rx <= 0 || mx - rx >= (float)v.w || my + ry <= 0 || my - ry >= (float)v.h) return false;
    out.rect[0] = clampTile(__float2int_rz(floorf((mx - rx) / TILE)), tx);
    out.rect[1] = clampTile(__float2int_rz(ceilf((mx + rx) / TILE)), tx);
    out.rect[2] = clampTile(__float2int_rz(floorf((my - ry) / TILE)), ty);
    out.rect[3] = clampTile(__float2int_rz(ceilf((my + ry) / TILE)), ty);
    return true;
}

// project runs docs/algorithms.md §4.1 for Gaussian i; out.visible stays false when it is culled.
__device__ void project(const View& v, const Mode& md, const CloudPtrs& cl, int shDeg, int i, Proj& out) {
    out.visible = false;
    out.binned = false;
    out.clampX = false;
    out.clampY = false;
    out.clampRGB = 0;
    float px = cl.pos[3 * i], py = cl.pos[3 * i + 1], pz = cl.pos[3 * i + 2];
    const float* r = v.r;
    float tx = r[0] * px + r[1] * py + r[2] * pz + v.t[0];
    float ty = r[3] * px + r[4] * py + r[5] * pz + v.t[1];
    float tz = r[6] * px + r[7] * py + r[8] * pz + v.t[2];
    out.tc[0] = tx;
    out.tc[1] = ty;
    out.tc[2] = tz;
    if (!(tz > md.nearZ)) return;
    float op = sigmoidf(cl.opLogit[i]);
    out.op = op;
    if (md.perAxis && op < ALPHA_MIN) return;

    const float* q = cl.rot + 4 * i;
    float ql = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (ql == 0) return;
    out.qlen = ql;
    float w = q[0] / ql, x = q[1] / ql, y = q[2] / ql, z = q[3] / ql;
    out.qn[0] = w;
    out.qn[1] = x;
    out.qn[2] = y;
    out.qn[3] = z;
    float* R = out.rot;
    R[0] = 1 - 2 * (y * y + z * z);
    R[1] = 2 * (x * y - w * z);
    R[2] = 2 * (x * z + w * y);
    R[3] = 2 * (x * y + w * z);
    R[4] = 1 - 2 * (x * x + z * z);
    R[5] = 2 * (y * z - w * x);
    R[6] = 2 * (x * z - w * y);
    R[7] = 2 * (y * z + w * x);
    R[8] = 1 - 2 * (x * x + y * y);
    const float* ls = cl.logScale + 3 * i;
    out.s[0] = expf(ls[0]);
    out.s[1] = expf(ls[1]);
    out.s[2] = expf(ls[2]);
    float rs[9];
#pragma unroll
    for (int row = 0; row < 3; row++)
#pragma unroll
        for (int k = 0; k < 3; k++) rs[3 * row + k] = R[3 * row + k] * out.s[k];
#define DOTROW(a, b) (rs[3 * (a)] * rs[3 * (b)] + rs[3 * (a) + 1] * rs[3 * (b) + 1] + rs[3 * (a) + 2] * rs[3 * (b) + 2])
    float* cv = out.cov;
    cv[0] = DOTROW(0, 0);
    cv[1] = DOTROW(0, 1);
    cv[2] = DOTROW(0, 2);
    cv[3] = DOTROW(1, 1);
    cv[4] = DOTROW(1, 2);
    cv[5] = DOTROW(2, 2);
#undef DOTROW

    float txz = tx / tz, tyz = ty / tz;
    float txc = tx, tyc = ty;
    if (txz < -v.limXNeg || txz > v.limXPos) {
        out.clampX = true;
        txc = fminf(fmaxf(txz, -v.limXNeg), v.limXPos) * tz;
    }
    if (tyz < -v.limYNeg || tyz > v.limYPos) {
        out.clampY = true;
        tyc = fminf(fmaxf(tyz, -v.limYNeg), v.limYPos) * tz;
    }
    float j00 = v.fx / tz, j02 = -v.fx * txc / (tz * tz);
    float j11 = v.fy / tz, j12 = -v.fy * tyc / (tz * tz);
    float* m = out.m;
#pragma unroll
    for (int k = 0; k < 3; k++) {
        m[k] = j00 * r[k] + j02 * r[6 + k];
        m[3 + k] = j11 * r[3 + k] + j12 * r[6 + k];
    }
    float sm00 = cv[0] * m[0] + cv[1] * m[1] + cv[2] * m[2];
    float sm01 = cv[1] * m[0] + cv[3] * m[1] + cv[4] * m[2];
    float sm02 = cv[2] * m[0] + cv[4] * m[1] + cv[5] * m[2];
    float sm10 = cv[0] * m[3] + cv[1] * m[4] + cv[2] * m[5];
    float sm11 = cv[1] * m[3] + cv[3] * m[4] + cv[4] * m[5];
    float sm12 = cv[2] * m[3] + cv[4] * m[4] + cv[5] * m[5];
    float a = m[0] * sm00 + m[1] * sm01 + m[2] * sm02 + LOW_PASS;
    float b = m[0] * sm10 + m[1] * sm11 + m[2] * sm12;
    float cc = m[3] * sm10 + m[4] * sm11 + m[5] * sm12 + LOW_PASS;
    float det = a * cc - b * b;
    if (!(det > 0)) return;
    out.a = a;
    out.b = b;
    out.c = cc;
    out.conic[0] = cc / det;
    out.conic[1] = -b / det;
    out.conic[2] = a / det;
    out.mean[0] = v.fx * txz + v.cx;
    out.mean[1] = v.fy * tyz + v.cy;
    if (!rectFor(v, md, out, op, a, cc, det)) return;
    out.visible = true;
    out.binned = op >= ALPHA_MIN && out.rect[1] > out.rect[0] && out.rect[3] > out.rect[2];

    float d0 = px - v.campos[0], d1 = py - v.campos[1], d2 = pz - v.campos[2];
    float dl = sqrtf(d0 * d0 + d1 * d1 + d2 * d2);
    if (dl > 0) {
        d0 /= dl;
        d1 /= dl;
        d2 /= dl;
    }
    out.dir[0] = d0;
    out.dir[1] = d1;
    out.dir[2] = d2;
    out.dirLen = dl;
    shBasis(d0, d1, d2, shDeg, out.basis);
    int nk = (shDeg + 1) * (shDeg + 1);
    const float* sh = cl.sh + 3 * cl.k * i;
    float rgb[3] = {0, 0, 0};
#pragma unroll
    for (int k = 0; k < 16; k++) {
        if (k < nk) {
            float bk = out.basis[k];
            rgb[0] += bk * sh[3 * k];
            rgb[1] += bk * sh[3 * k + 1];
            rgb[2] += bk * sh[3 * k + 2];
        }
    }
#pragma unroll
    for (int ch = 0; ch < 3; ch++) {
        rgb[ch] += 0.5f;
        if (rgb[ch] < 0) {
            rgb[ch] = 0;
            out.clampRGB |= 1 << ch;
        }
        out.col[ch] = rgb[ch];
    }
}

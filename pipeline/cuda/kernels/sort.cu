// Device-wide exclusive scan and a stable LSD radix sort of 64-bit keys with
// 32-bit values (8-bit digits), written for the driver API: the host
// launches histogram → scan → scatter once per digit.
#define SCAN_THREADS 256
#define SCAN_ITEMS 8
#define SCAN_CHUNK (SCAN_THREADS * SCAN_ITEMS)
#define SORT_THREADS 256
#define SORT_WARPS (SORT_THREADS / 32)
#define SORT_ITEMS 16
#define SORT_CHUNK (SORT_THREADS * SORT_ITEMS)
#define FULL 0xffffffffu

__device__ __forceinline__ unsigned warpInclusive(unsigned x, unsigned lane) {
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        unsigned y = __shfl_up_sync(FULL, x, o);
        if (lane >= (unsigned)o) x += y;
    }
    return x;
}

// scanExclusive writes the exclusive prefix sum of each SCAN_CHUNK block of
// in to out (in may equal out) and, when blockSums is not null, the block's
// total to blockSums[block].
extern "C" __global__ void scanExclusive(const unsigned* in, unsigned* out, unsigned n, unsigned* blockSums) {
    __shared__ unsigned warpSums[SCAN_THREADS / 32];
    unsigned lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    unsigned base = blockIdx.x * SCAN_CHUNK + threadIdx.x * SCAN_ITEMS;
    unsigned v[SCAN_ITEMS];
    unsigned s = 0;
#pragma unroll
    for (int j = 0; j < SCAN_ITEMS; j++) {
        v[j] = base + j < n ? in[base + j] : 0;
        s += v[j];
    }
    unsigned x = warpInclusive(s, lane);
    if (lane == 31) warpSums[w] = x;
    __syncthreads();
    if (w == 0) {
        unsigned ws = lane < SCAN_THREADS / 32 ? warpSums[lane] : 0;
        ws = warpInclusive(ws, lane);
        if (lane < SCAN_THREADS / 32) warpSums[lane] = ws;
    }
    __syncthreads();
    unsigned prefix = (w > 0 ? warpSums[w - 1] : 0) + x - s;
#pragma unroll
    for (int j = 0; j < SCAN_ITEMS; j++) {
        if (base + j < n) out[base + j] = prefix;
        prefix += v[j];
    }
    if (threadIdx.x == SCAN_THREADS - 1 && blockSums != 0) blockSums[blockIdx.x] = warpSums[SCAN_THREADS / 32 - 1];
}

// scanAdd adds blockOffsets[block] to every element of that SCAN_CHUNK block.
extern "C" __global__ void scanAdd(unsigned* out, unsigned n, const unsigned* blockOffsets) {
    unsigned add = blockOffsets[blockIdx.x];
#pragma unroll
    for (int j = 0; j < SCAN_ITEMS; j++) {
        unsigned i = blockIdx.x * SCAN_CHUNK + j * SCAN_THREADS + threadIdx.x;
        if (i < n) out[i] += add;
    }
}

// radixHistogram counts digit (key >> shift) & 255 per SORT_CHUNK block into
// hist[digit·gridDim.x + block], so one exclusive scan of hist gives every
// block's first output position for every digit.
extern "C" __global__ void radixHistogram(const unsigned long long* keys, unsigned n, int shift, unsigned* hist) {
    __shared__ unsigned cnt[256];
    cnt[threadIdx.x] = 0;
    __syncthreads();
    unsigned base = blockIdx.x * SORT_CHUNK;
    for (int j = 0; j < SORT_ITEMS; j++) {
        unsigned i = base + j * SORT_THREADS + threadIdx.x;
        if (i < n) atomicAdd(&cnt[(unsigned)(keys[i] >> shift) & 255u], 1u);
    }
    __syncthreads();
    hist[threadIdx.x * gridDim.x + blockIdx.x] = cnt[threadIdx.x];
}

// radixScatter moves each key to its place for this digit, stably: items are
// taken 256 at a time in input order; within a warp __match_any_sync ranks
// equal digits by lane, and the per-warp counts order the warps.
extern "C" __global__ void radixScatter(const unsigned long long* keysIn, const unsigned* valsIn,
                                        unsigned long long* keysOut, unsigned* valsOut, unsigned n, int shift,
                                        const unsigned* histScan) {
    __shared__ unsigned offs[256];
    __shared__ unsigned wc[SORT_WARPS][256];
    unsigned t = threadIdx.x, lane = t & 31, w = t >> 5;
    offs[t] = histScan[t * gridDim.x + blockIdx.x];
    unsigned base = blockIdx.x * SORT_CHUNK;
    for (int j = 0; j < SORT_ITEMS; j++) {
        unsigned first = base + j * SORT_THREADS;
        if (first >= n) break;  // uniform across the block
#pragma unroll
        for (int q = 0; q < SORT_WARPS; q++) wc[q][t] = 0;
        __syncthreads();
        unsigned i = first + t;
        bool ok = i < n;
        unsigned long long k = ok ? keysIn[i] : 0ull;
        unsigned v = ok ? valsIn[i] : 0u;
        unsigned dg = ok ? ((unsigned)(k >> shift) & 255u) : 256u + lane;
        unsigned mask = __match_any_sync(FULL, dg);
        unsigned lower = mask & ((1u << lane) - 1u);
        if (ok && lower == 0) wc[w][dg] = __popc(mask);
        __syncthreads();
        if (ok) {
            unsigned p = offs[dg] + __popc(lower);
            for (unsigned q = 0; q < w; q++) p += wc[q][dg];
            keysOut[p] = k;
            valsOut[p] = v;
        }
        __syncthreads();
        unsigned s = 0;
#pragma unroll
        for (int q = 0; q < SORT_WARPS; q++) s += wc[q][t];
        offs[t] += s;
    }
}

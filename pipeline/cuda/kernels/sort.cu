// Device-wide single-pass exclusive scan and a stable, segmented LSD radix sort of
// 32-bit keys with 32-bit values (8-bit digits), written for the driver
// API: the host launches histogram → scan → scatter once per digit.
// gridDim.y segments of segLen items each are sorted independently in one
// launch (one per view for the depth sort; one segment for the tile sort):
// a block never straddles two segments, and the histogram is laid out
// [segment][digit][block], so one scan of it gives every block's global
// output position for every digit and each segment stays in its place.
#define SCAN_THREADS 256
#define SCAN_ITEMS 8
#define SCAN_CHUNK (SCAN_THREADS * SCAN_ITEMS)
#define SORT_THREADS 256
#define SORT_WARPS (SORT_THREADS / 32)
#define SORT_ITEMS 8
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

// Status words of the single-pass scan: the high 32 bits are the scan's
// epoch (a host counter, so the words need no clearing between scans) times
// 4 plus a flag, the low 32 bits the value.
#define SCAN_AGGREGATE 1u
#define SCAN_PREFIX 2u

__device__ __forceinline__ void scanPublish(unsigned long long* st, unsigned epoch, unsigned flag, unsigned v) {
    *(volatile unsigned long long*)st = ((unsigned long long)((epoch << 2) | flag) << 32) | v;
}

// scanExclusive writes the exclusive prefix sum of in[0..n) to out (in may
// equal out) in one launch: each block takes the next SCAN_CHUNK chunk by
// ticket (ticket[0] - ticketBase, so a block only ever waits on chunks
// whose blocks are running or done), publishes its total, and one warp
// looks back over the earlier chunks' published totals and inclusive
// prefixes, 32 at a time, until it meets a prefix (decoupled look-back).
// status holds one word per chunk; epoch is new for every launch.
extern "C" __global__ void scanExclusive(const unsigned* in, unsigned* out, unsigned n, unsigned long long* status,
                                         unsigned* ticket, unsigned ticketBase, unsigned epoch) {
    __shared__ unsigned warpSums[SCAN_THREADS / 32];
    __shared__ unsigned sChunk, sPrefix;
    unsigned lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (threadIdx.x == 0) sChunk = atomicAdd(ticket, 1u) - ticketBase;
    __syncthreads();
    unsigned chunk = sChunk;
    unsigned base = chunk * SCAN_CHUNK + threadIdx.x * SCAN_ITEMS;
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
        unsigned agg = __shfl_sync(FULL, ws, SCAN_THREADS / 32 - 1);
        if (lane == 0) scanPublish(status + chunk, epoch, chunk == 0 ? SCAN_PREFIX : SCAN_AGGREGATE, agg);
        unsigned excl = 0;
        int idx = (int)chunk - 1 - (int)lane;
        while (chunk > 0) {
            unsigned long long st = 0;
            unsigned flag;
            do {
                flag = SCAN_PREFIX;  // before chunk 0: a prefix of 0
                st = 0;
                if (idx >= 0) {
                    st = *(volatile unsigned long long*)(status + idx);
                    unsigned tag = (unsigned)(st >> 32);
                    flag = (tag >> 2) == (epoch & 0x3fffffffu) ? (tag & 3u) : 0u;
                }
            } while (__any_sync(FULL, flag == 0));
            unsigned pm = __ballot_sync(FULL, flag == SCAN_PREFIX);
            unsigned val = (unsigned)st;
            if (pm != 0 && (int)lane > __ffs(pm) - 1) val = 0;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) val += __shfl_xor_sync(FULL, val, o);
            excl += val;
            if (pm != 0) break;
            idx -= 32;
        }
        if (lane == 0) {
            if (chunk > 0) scanPublish(status + chunk, epoch, SCAN_PREFIX, excl + agg);
            sPrefix = excl;
        }
    }
    __syncthreads();
    unsigned prefix = sPrefix + (w > 0 ? warpSums[w - 1] : 0) + x - s;
#pragma unroll
    for (int j = 0; j < SCAN_ITEMS; j++) {
        if (base + j < n) out[base + j] = prefix;
        prefix += v[j];
    }
}

// radixHistogram counts digit (key >> shift) & 255 of each SORT_CHUNK block
// of segment blockIdx.y into hist[(segment·256 + digit)·gridDim.x + block].
extern "C" __global__ void radixHistogram(const unsigned* keys, unsigned segLen, int shift, unsigned* hist) {
    __shared__ unsigned cnt[256];
    cnt[threadIdx.x] = 0;
    __syncthreads();
    unsigned seg = blockIdx.y;
    unsigned base = seg * segLen + blockIdx.x * SORT_CHUNK;
    unsigned end = seg * segLen + segLen;
#pragma unroll
    for (int j = 0; j < SORT_ITEMS; j++) {
        unsigned i = base + j * SORT_THREADS + threadIdx.x;
        if (i < end) atomicAdd(&cnt[(keys[i] >> shift) & 255u], 1u);
    }
    __syncthreads();
    hist[(seg * 256u + threadIdx.x) * gridDim.x + blockIdx.x] = cnt[threadIdx.x];
}

// radixScatter moves each key of its block to its place for this digit,
// stably. The block first ranks its items in shared memory (256 at a time
// in input order: __match_any_sync ranks equal digits by lane, the
// per-warp counts order the warps), which leaves them grouped by digit;
// then consecutive threads write consecutive positions of each digit's run,
// so the global writes coalesce. histScan is the exclusive scan of the
// histogram; its next entry minus this one is the block's count of a digit.
extern "C" __global__ void __launch_bounds__(SORT_THREADS)
    radixScatter(const unsigned* keysIn, const unsigned* valsIn, unsigned* keysOut, unsigned* valsOut,
                 unsigned segLen, int shift, const unsigned* histScan) {
    __shared__ unsigned skeys[SORT_CHUNK];
    __shared__ unsigned svals[SORT_CHUNK];
    __shared__ unsigned wc[SORT_WARPS][256];
    __shared__ unsigned gbase[256], lbase[256], run[256], warpSums[SORT_WARPS];
    unsigned t = threadIdx.x, lane = t & 31, w = t >> 5;
    unsigned seg = blockIdx.y;
    unsigned base = seg * segLen + blockIdx.x * SORT_CHUNK;
    unsigned end = seg * segLen + segLen;
    unsigned count = min(end - base, (unsigned)SORT_CHUNK);
    unsigned h = (seg * 256u + t) * gridDim.x + blockIdx.x;
    unsigned last = 256u * gridDim.x * gridDim.y - 1u;
    unsigned g0 = histScan[h];
    unsigned g1 = h < last ? histScan[h + 1] : segLen * gridDim.y;
    unsigned c = g1 - g0;
    gbase[t] = g0;
    run[t] = 0;
    // lbase: exclusive scan of the block's digit counts.
    unsigned x = warpInclusive(c, lane);
    if (lane == 31) warpSums[w] = x;
    __syncthreads();
    unsigned pre = 0;
#pragma unroll
    for (int q = 0; q < SORT_WARPS; q++)
        if (q < (int)w) pre += warpSums[q];
    lbase[t] = pre + x - c;
    for (int j = 0; j < SORT_ITEMS; j++) {
        unsigned first = j * SORT_THREADS;
        if (first >= count) break;  // uniform across the block
#pragma unroll
        for (int q = 0; q < SORT_WARPS; q++) wc[q][t] = 0;
        __syncthreads();
        unsigned li = first + t;
        bool ok = li < count;
        unsigned k = ok ? keysIn[base + li] : 0u;
        unsigned v = ok ? valsIn[base + li] : 0u;
        unsigned dg = ok ? ((k >> shift) & 255u) : 256u + lane;
        unsigned mask = __match_any_sync(FULL, dg);
        unsigned lower = mask & ((1u << lane) - 1u);
        if (ok && lower == 0) wc[w][dg] = __popc(mask);
        __syncthreads();
        if (ok) {
            unsigned p = lbase[dg] + run[dg] + __popc(lower);
            for (unsigned q = 0; q < w; q++) p += wc[q][dg];
            skeys[p] = k;
            svals[p] = v;
        }
        __syncthreads();
        unsigned s = 0;
#pragma unroll
        for (int q = 0; q < SORT_WARPS; q++) s += wc[q][t];
        run[t] += s;
    }
    __syncthreads();
    for (unsigned i = t; i < count; i += SORT_THREADS) {
        unsigned k = skeys[i];
        unsigned dg = (k >> shift) & 255u;
        unsigned o = gbase[dg] + (i - lbase[dg]);
        keysOut[o] = k;
        valsOut[o] = svals[i];
    }
}

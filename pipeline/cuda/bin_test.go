package cuda

import (
	"math"
	"strings"
	"testing"
)

// statusWords builds the scan's status words after a launch (flag PREFIX,
// low 32 bits the inclusive prefix, wrapping) for chunk totals aggs.
func statusWords(aggs ...uint64) []uint64 {
	var out []uint64
	var incl uint64
	for _, a := range aggs {
		incl += a
		out = append(out, uint64((7<<2|2))<<32|uint64(uint32(incl)))
	}
	return out
}

// TestInstanceCount: the (Gaussian, tile) pair count is exact in 64 bits
// where the scan's 32-bit total wraps. Before, the count was the wrapped
// tail (offset + count of the last Gaussian): a batch of 2³² + 5 pairs
// sized its key buffers for 5 while the kernels wrote 2³² + 5.
func TestInstanceCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tail   [2]uint32
		status []uint64
		want   uint64
	}{
		{"no wrap possible: the tail", [2]uint32{1000, 24}, nil, 1024},
		{"chunks under 2^32", [2]uint32{}, statusWords(10, 20, 30), 60},
		{"wraps once", [2]uint32{}, statusWords(1<<31, 1<<31, 5), 1<<32 + 5},
		{"wraps three times", [2]uint32{}, statusWords(3<<30, 3<<30, 3<<30, 3<<30, 3<<30, 7), 15<<30 + 7},
	}
	for _, tc := range tests {
		if got := instanceCount(tc.tail, tc.status); got != tc.want {
			t.Errorf("%s: %d pairs, want %d", tc.name, got, tc.want)
		}
	}
}

// TestBatchLimits: batches the kernels' 32-bit indices cannot address are
// refused with an error naming the sizes, before any buffer is sized.
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	// The validator's batch: 16 views of 518 px in 16-px tiles.
	const tiles = 33 * 33
	tests := []struct {
		name       string
		n, views   int
		tiles      int
		pairs      uint64
		wantErr    string
		fitsUint32 bool
	}{
		{"typical cloud", 200_000, 16, tiles, 40_000_000, "", true},
		{"large cloud: the chunk totals are read", 500_000, 16, tiles, 90_000_000, "", false},
		{"small cloud, no wrap possible", 1000, 16, tiles, 16_000, "", true},
		{"pairs at the limit", 1_000_000, 16, tiles, math.MaxInt32, "", false},
		{"pairs over int32", 10_000_000, 16, tiles, math.MaxInt32 + 1, "(Gaussian, tile) pairs, over the 2147483647", false},
		{"pairs over 2^32", 10_000_000, 16, tiles, 1<<32 + 5, "make 4294967301 (Gaussian, tile) pairs", false},
		{"Gaussians x views over int32", 200_000_000, 16, tiles, 0, "200000000 Gaussians × 16 views = 3200000000", false},
		{"tiles per view too many", 10, 1, 1 << 21, 0, "tiles per view", true},
	}
	for _, tc := range tests {
		err := checkBatch(tc.n, tc.views, tc.tiles)
		if err == nil {
			err = checkInstances(tc.pairs, tc.n, tc.views)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want one containing %q", tc.name, err, tc.wantErr)
		}
		if tc.views > 0 && tc.n*tc.views <= math.MaxInt32 {
			if got := fitsUint32(tc.n*tc.views, tc.tiles); got != tc.fitsUint32 {
				t.Errorf("%s: fitsUint32 = %v, want %v", tc.name, got, tc.fitsUint32)
			}
		}
	}
}

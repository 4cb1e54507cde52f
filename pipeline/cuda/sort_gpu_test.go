//go:build gpu

package cuda

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// TestSortPairsMatchesStableSort runs the segmented radix sort on fresh
// random keys and compares every segment with a stable sort on the host:
// keys and values (the original indices) must match exactly, so both the
// order and the stability are checked.
func TestSortPairsMatchesStableSort(t *testing.T) {
	d := openDevice(t)
	tests := []struct {
		name         string
		segLen, segs int
		keyBits      int
		key          func(r *rand.Rand) uint32
	}{
		{"depths 16 views", 5000, 16, 32, func(r *rand.Rand) uint32 {
			if r.IntN(10) == 0 {
				return math.MaxUint32
			}
			return math.Float32bits(float32(0.01 + 20*r.Float64()))
		}},
		{"tile ids one segment", 70001, 1, 15, func(r *rand.Rand) uint32 { return uint32(r.IntN(17424)) }},
		{"few distinct keys", 9000, 3, 10, func(r *rand.Rand) uint32 { return uint32(r.IntN(4)) * 300 }},
		{"short segments", 37, 9, 32, func(r *rand.Rand) uint32 { return r.Uint32() }},
		{"one chunk exactly", 2048, 2, 24, func(r *rand.Rand) uint32 { return r.Uint32() & 0xffffff }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i)+1, 77))
			n := tt.segLen * tt.segs
			keys := make([]uint32, n)
			vals := make([]uint32, n)
			for j := range keys {
				keys[j] = tt.key(r)
				vals[j] = uint32(j)
			}
			gotK, gotV := deviceSort(t, d, keys, vals, tt.segLen, tt.segs, tt.keyBits)
			type kv struct{ k, v uint32 }
			mask := uint32(math.MaxUint32)
			if tt.keyBits < 32 {
				mask = 1<<tt.keyBits - 1
			}
			var wantK, wantV []uint32
			for s := range tt.segs {
				seg := make([]kv, tt.segLen)
				for j := range seg {
					seg[j] = kv{keys[s*tt.segLen+j], vals[s*tt.segLen+j]}
				}
				slices.SortStableFunc(seg, func(a, b kv) int { return cmp.Compare(a.k&mask, b.k&mask) })
				for _, e := range seg {
					wantK = append(wantK, e.k)
					wantV = append(wantV, e.v)
				}
			}
			if diff := gocmp.Diff(wantV, gotV); diff != "" {
				t.Fatalf("values (-host +device):\n%.2000s", diff)
			}
			if diff := gocmp.Diff(wantK, gotK); diff != "" {
				t.Fatalf("keys (-host +device):\n%.2000s", diff)
			}
		})
	}
}

// deviceSort uploads keys and values, runs sortPairs and downloads the
// result; the output buffers are poisoned first so unwritten entries show.
func deviceSort(t *testing.T, d *Device, keys, vals []uint32, segLen, segs, keyBits int) ([]uint32, []uint32) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	var bufs [4]devBuf
	defer func() {
		for i := range bufs {
			d.freeBuf(&bufs[i])
		}
	}()
	poison := make([]uint32, len(keys))
	for i := range poison {
		poison[i] = 0xdeadbeef
	}
	for i := range bufs {
		if err := d.ensure(&bufs[i], uint64(4*len(keys)), "sort test"); err != nil {
			t.Fatal(err)
		}
	}
	for i, src := range [][]uint32{keys, vals, poison, poison} {
		if err := upload(d, bufs[i].ptr, src); err != nil {
			t.Fatal(err)
		}
	}
	kp, vp, err := d.sortPairs(segLen, segs, keyBits, &bufs[0], &bufs[1], &bufs[2], &bufs[3])
	if err != nil {
		t.Fatal(err)
	}
	gotK := make([]uint32, len(keys))
	gotV := make([]uint32, len(keys))
	if err := download(d, gotK, kp); err != nil {
		t.Fatal(err)
	}
	if err := download(d, gotV, vp); err != nil {
		t.Fatal(err)
	}
	if err := d.sync(); err != nil {
		t.Fatal(err)
	}
	return gotK, gotV
}

// TestScanMatchesHost runs the single-pass scan on sizes around the chunk
// (2048) and on more chunks than the device holds at once, back to back
// (so each scan meets the previous scans' status words), in place and not,
// against a host prefix sum in the same wrapping uint32 arithmetic.
func TestScanMatchesHost(t *testing.T) {
	d := openDevice(t)
	tests := []struct {
		name    string
		n       int
		max     uint32
		inPlace bool
	}{
		{"one", 1, 100, false},
		{"chunk less one", 2047, 100, true},
		{"one chunk", 2048, 100, false},
		{"chunk plus one", 2049, 100, true},
		{"histogram sized", 401_408, 40, true},
		{"many chunks", 3_300_001, 20, false},
		{"wrapping totals", 70_000, math.MaxUint32, false},
		{"fewer again", 5000, 3, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i)+1, 99))
			in := make([]uint32, tt.n)
			for j := range in {
				in[j] = uint32(r.Uint64N(uint64(tt.max) + 1))
			}
			want := make([]uint32, tt.n)
			var acc uint32
			for j, x := range in {
				want[j] = acc
				acc += x
			}
			got := deviceScan(t, d, in, tt.inPlace)
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Fatalf("n=%d (-host +device):\n%.2000s", tt.n, diff)
			}
		})
	}
}

func deviceScan(t *testing.T, d *Device, in []uint32, inPlace bool) []uint32 {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	var bufs [2]devBuf
	defer func() {
		for i := range bufs {
			d.freeBuf(&bufs[i])
		}
	}()
	for i := range bufs {
		if err := d.ensure(&bufs[i], uint64(4*len(in)), "scan test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := upload(d, bufs[0].ptr, in); err != nil {
		t.Fatal(err)
	}
	out := bufs[1].ptr
	if inPlace {
		out = bufs[0].ptr
	}
	if err := d.scan(bufs[0].ptr, out, len(in)); err != nil {
		t.Fatal(err)
	}
	got := make([]uint32, len(in))
	if err := download(d, got, out); err != nil {
		t.Fatal(err)
	}
	if err := d.sync(); err != nil {
		t.Fatal(err)
	}
	return got
}

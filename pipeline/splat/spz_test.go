package splat

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

func mustWriteSPZ(t testing.TB, c *Cloud, o SPZOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSPZ(&b, c, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// spzErrStats holds the worst per-attribute error of a round trip.
type spzErrStats struct {
	pos, logScale, rotAngle, alpha, dc, sh1, shRest float64
	rotAngleW05                                     float64 // quaternions with |w| ≥ 0.5 after normalisation
}

func spzRoundTripErrors(a, b *Cloud) spzErrStats {
	var s spzErrStats
	k := a.K()
	up := func(m *float64, v float64) { *m = math.Max(*m, v) }
	for i := range a.Len() {
		for j := range 3 {
			up(&s.pos, math.Abs(float64(a.Pos[3*i+j]-b.Pos[3*i+j])))
			up(&s.logScale, math.Abs(float64(a.LogScale[3*i+j]-b.LogScale[3*i+j])))
			up(&s.dc, math.Abs(float64(a.SH[3*k*i+j]-b.SH[3*k*i+j])))
		}
		ang := quatAngle(a.Rot[4*i:4*i+4], b.Rot[4*i:4*i+4])
		up(&s.rotAngle, ang)
		if u := a.UnitRot(i); math.Abs(float64(u[0])) >= 0.5 {
			up(&s.rotAngleW05, ang)
		}
		up(&s.alpha, math.Abs(float64(a.Opacity(i)-b.Opacity(i))))
		for j := 3; j < 3*k; j++ {
			d := math.Abs(float64(a.SH[3*k*i+j] - b.SH[3*k*i+j]))
			if j < 3+spzSH1Bytes {
				up(&s.sh1, d)
			} else {
				up(&s.shRest, d)
			}
		}
	}
	return s
}

// Stated round-trip error bounds, for values inside the representable
// ranges (|p| < 2048, log-scale in [-10, 5.9], |f_dc| ≤ 3.33, |sh| ≤ 0.99):
//
//	position   ≤ 0.5/4096 (half the fixed-point step at 12 fractional bits)
//	log-scale  ≤ 1/32     (half of the 1/16 step)
//	alpha      ≤ 0.5/255 + float32 slack (after the sigmoid)
//	f_dc       ≤ 0.5/38.25
//	SH deg 1   ≤ 4.5/128  (round to 1/128, then to a bucket of 8)
//	SH rest    ≤ 8.5/128  (bucket of 16)
//	rotation   v2 "first three": ≤ 0.03 rad when |w| ≥ 0.5; for w → 0 the
//	           recomputed w = √(1−|xyz|²) amplifies the 1/255 step: |xyz| may be
//	           off by √3/255, so w' ≤ √(2·√3/255) ≈ 0.117 where w = 0, and the
//	           angle error reaches 2·asin(0.117) + 2·√3/255 ≈ 0.25 rad.
//	           v3/v4 "smallest three": ≤ 0.004 rad everywhere.
var spzBounds = spzErrStats{
	pos: 0.5/4096 + 1e-6, logScale: 1.0/32 + 1e-6, alpha: 0.5/255 + 1e-6, dc: 0.5/38.25 + 1e-6,
	sh1: 4.5/128 + 1e-6, shRest: 8.5/128 + 1e-6, rotAngle: 0.25, rotAngleW05: 0.03,
}

func TestSPZRoundTripBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		o        SPZOptions
		rotBound float64
	}{
		{SPZOptions{}, spzBounds.rotAngle},
		{SPZOptions{Container: SPZGzip}, spzBounds.rotAngle},
		{SPZOptions{Container: SPZGzip, Version: 3}, 0.004},
		{SPZOptions{Container: SPZNGSP}, 0.004},
	}
	for _, tc := range cases {
		for deg := range MaxSHDegree + 1 {
			t.Run(fmt.Sprintf("%v/v%d/deg%d", tc.o.Container, tc.o.Version, deg), func(t *testing.T) {
				t.Parallel()
				c := codecRandCloud(uint64(40+deg), 2000, deg)
				data := mustWriteSPZ(t, c, tc.o)
				got, info, err := ReadSPZ(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if info.NumPoints != c.Len() || info.SHDegree != deg || info.FractionalBits != 12 || info.Container != tc.o.Container {
					t.Errorf("info = %+v", info)
				}
				s := spzRoundTripErrors(c, got)
				check := func(name string, got, bound float64) {
					if got > bound {
						t.Errorf("%s error %.6g exceeds the bound %.6g", name, got, bound)
					}
				}
				check("position", s.pos, spzBounds.pos)
				check("log-scale", s.logScale, spzBounds.logScale)
				check("alpha", s.alpha, spzBounds.alpha)
				check("f_dc", s.dc, spzBounds.dc)
				check("SH degree 1", s.sh1, spzBounds.sh1)
				check("SH rest", s.shRest, spzBounds.shRest)
				check("rotation angle", s.rotAngle, tc.rotBound)
				check("rotation angle |w|≥0.5", s.rotAngleW05, min(tc.rotBound, spzBounds.rotAngleW05))
				t.Logf("max errors: %+v", s)
				// Re-encoding the decoded cloud is a fixed point of the quantiser
				// (except for first-three rotations, whose w is recomputed).
				again, _, err := ReadSPZ(bytes.NewReader(mustWriteSPZ(t, got, tc.o)))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(got.Pos, again.Pos); diff != "" {
					t.Errorf("positions are not stable under re-encoding:\n%s", diff)
				}
			})
		}
	}
}

func TestWriteSPZZstdFrame(t *testing.T) {
	t.Parallel()
	c := codecRandCloud(50, 100, 1)
	data := mustWriteSPZ(t, c, SPZOptions{})
	var h zstd.Header
	if err := h.Decode(data); err != nil {
		t.Fatal(err)
	}
	want := uint64(16 + 100*(9+1+3+3+3+3*3))
	if !h.HasFCS || h.FrameContentSize != want {
		t.Errorf("frame content size %v/%d, want present and %d (the fork's decoder needs it)", h.HasFCS, h.FrameContentSize, want)
	}
	raw, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p, err := raw.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte{0x4e, 0x47, 0x53, 0x50, 2, 0, 0, 0, 100, 0, 0, 0, 1, 12, 0, 0}
	if !bytes.Equal(p[:16], hdr) {
		t.Errorf("header % x, want % x", p[:16], hdr)
	}
}

// spzGolden are small files of each kind kept under testdata/spz; they
// double as fuzz seeds and as fixtures for other tools.
func spzGolden() []struct {
	name  string
	cloud *Cloud
	o     SPZOptions
} {
	return []struct {
		name  string
		cloud *Cloud
		o     SPZOptions
	}{
		{"deg0_zstd.spz", codecRandCloud(60, 16, 0), SPZOptions{}},
		{"deg1_gzip.spz", codecRandCloud(61, 16, 1), SPZOptions{Container: SPZGzip}},
		{"deg3_gzip_v3.spz", codecRandCloud(62, 8, 3), SPZOptions{Container: SPZGzip, Version: 3}},
		{"deg2_ngsp.spz", codecRandCloud(63, 8, 2), SPZOptions{Container: SPZNGSP, Antialiased: true}},
	}
}

func TestSPZGolden(t *testing.T) {
	t.Parallel()
	for _, g := range spzGolden() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			fresh := mustWriteSPZ(t, g.cloud, g.o)
			if codecUpdate() {
				checkGolden(t, "spz", g.name, fresh)
			}
			old := checkGoldenRead(t, "spz", g.name)
			// Compare decoded content: compressed bytes may change with the
			// compressor's version, the quantised values must not.
			a, ai, err := ReadSPZ(bytes.NewReader(old))
			if err != nil {
				t.Fatal(err)
			}
			b, bi, err := ReadSPZ(bytes.NewReader(fresh))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("decoded golden file differs from a fresh encoding:\n%s", diff)
			}
			if diff := cmp.Diff(ai, bi); diff != "" {
				t.Errorf("info differs:\n%s", diff)
			}
		})
	}
}

// legacyPayload builds a raw payload (header + blocks) by hand.
func legacyPayload(version, n uint32, deg, fb, flags byte, attrs []byte) []byte {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h, spzMagic)
	binary.LittleEndian.PutUint32(h[4:], version)
	binary.LittleEndian.PutUint32(h[8:], n)
	h[12], h[13], h[14] = deg, fb, flags
	return append(h, attrs...)
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zst(b []byte) []byte {
	e, _ := zstd.NewWriter(nil)
	defer e.Close()
	return e.EncodeAll(b, nil)
}

func TestReadSPZVersion1Float16(t *testing.T) {
	t.Parallel()
	// One point at (1, -2, 0.5) in float16, alpha 128, colour 128, scale 160,
	// rotation bytes for identity.
	attrs := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 128, 128, 128, 128, 160, 160, 160, 128, 128, 128}
	c, info, err := ReadSPZ(bytes.NewReader(gz(legacyPayload(1, 1, 0, 12, 0, attrs))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float32{1, -2, 0.5}, c.Pos); diff != "" || info.Version != 1 {
		t.Errorf("positions (-want +got):\n%s, version %d", diff, info.Version)
	}
}

func TestReadSPZErrors(t *testing.T) {
	t.Parallel()
	good := codecRandCloud(70, 4, 1)
	attrs := func(n, deg int) []byte { return make([]byte, newSPZLayout(n, deg, 12, 2).total()) }
	goodZ := mustWriteSPZ(t, good, SPZOptions{})
	goodN := mustWriteSPZ(t, good, SPZOptions{Container: SPZNGSP})
	tests := []struct {
		name  string
		in    []byte
		err   error
		parts []string
	}{
		{"empty", nil, ErrTruncated, []string{"magic"}},
		{"not spz", []byte("ply\nformat"), ErrFormat, []string{"magic", "70 6c 79 0a"}},
		{"zstd truncated", goodZ[:len(goodZ)-5], ErrTruncated, []string{"payload byte 0"}},
		{"zstd version 3", zst(legacyPayload(3, 4, 0, 12, 0, attrs(4, 0))), ErrFormat, []string{"version", "payload byte 4", "1..2"}},
		{"zstd too many points", zst(legacyPayload(2, 10_000_001, 0, 12, 0, nil)), ErrFormat, []string{"numPoints", "payload byte 8"}},
		{"huge count tiny data", gz(legacyPayload(2, 40_000_000, 3, 12, 0, make([]byte, 100))), ErrTruncated, []string{"positions", "payload byte 116"}},
		{"sh degree 4", gz(legacyPayload(3, 1, 4, 12, 0, nil)), ErrFormat, []string{"shDegree", "payload byte 12"}},
		{"bad magic", gz(append([]byte("XXXX"), legacyPayload(2, 0, 0, 12, 0, nil)[4:]...)), ErrFormat, []string{"magic", "payload byte 0"}},
		{"short block", gz(legacyPayload(2, 4, 1, 12, 0, attrs(4, 1)[:60])), ErrTruncated, []string{"scales", "payload byte 76"}},
		{"trailing", gz(legacyPayload(2, 4, 0, 12, 0, append(attrs(4, 0), 1))), ErrFormat, []string{"continues"}},
		{"extensions in legacy", gz(legacyPayload(3, 1, 0, 12, 2, attrs(1, 0))), ErrFormat, []string{"flags"}},
		{"short header", gz([]byte{0x4e, 0x47}), ErrTruncated, []string{"header"}},
		{"ngsp short", goodN[:20], ErrTruncated, []string{"header"}},
		{"ngsp cut", goodN[:len(goodN)-3], ErrTruncated, []string{"sh size", "runs past"}},
		{"ngsp trailing", append(append([]byte(nil), goodN...), 0), ErrFormat, []string{"after the last stream"}},
		{"ngsp bad toc", func() []byte {
			b := append([]byte(nil), goodN...)
			binary.LittleEndian.PutUint32(b[16:], 5)
			return b
		}(), ErrFormat, []string{"tocByteOffset", "file byte 16"}},
		{"ngsp streams", func() []byte {
			b := append([]byte(nil), goodN...)
			b[15] = 5
			return b
		}(), ErrFormat, []string{"numStreams"}},
		{"ngsp raw size", func() []byte {
			b := append([]byte(nil), goodN...)
			b[32+8]++
			return b
		}(), ErrFormat, []string{"positions size", "file byte 40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ReadSPZ(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if _, ok := errors.AsType[*SPZError](err); !ok {
				t.Errorf("%v is not an *SPZError", err)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
		})
	}
}

func TestWriteSPZOptions(t *testing.T) {
	t.Parallel()
	c := codecRandCloud(80, 2, 0)
	for _, o := range []SPZOptions{{Version: 3}, {Container: SPZGzip, Version: 4}, {Container: 9}, {FractionalBits: 30}, {Level: 7}} {
		if err := WriteSPZ(&bytes.Buffer{}, c, o); err == nil {
			t.Errorf("WriteSPZ(%+v) succeeded", o)
		}
	}
	if err := WriteSPZ(&bytes.Buffer{}, NewCloud(0, 0), SPZOptions{Container: SPZNGSP}); err == nil {
		t.Error("NGSP with zero points succeeded")
	}
	bad := c.Clone()
	bad.Pos[0] = float32(math.Inf(-1))
	if err := WriteSPZ(&bytes.Buffer{}, bad, SPZOptions{}); !errors.Is(err, ErrInvalidCloud) {
		t.Errorf("WriteSPZ(Inf) = %v, want ErrInvalidCloud", err)
	}
}

// The packed bytes do not depend on how many goroutines pack them.
func TestSPZPackWorkers(t *testing.T) {
	for _, tc := range []struct {
		n, deg, version int
	}{{0, 0, 2}, {1, 1, 2}, {9999, 3, 2}, {20001, 0, 3}, {20001, 3, 3}} {
		c := codecRandCloud(7, tc.n, tc.deg)
		o := SPZOptions{Version: tc.version, FractionalBits: 12}
		want := spzPack(c, o, 1)
		for _, w := range []int{2, 3, 16} {
			if got := spzPack(c, o, w); !slices.EqualFunc(got, want, bytes.Equal) {
				t.Errorf("%d Gaussians, degree %d, version %d: %d workers pack other bytes than one", tc.n, tc.deg, tc.version, w)
			}
		}
	}
}

// The shared encoders write what a new one writes, call after call.
func TestSPZEncoderShared(t *testing.T) {
	payload := mustWritePLY(t, codecRandCloud(3, 2000, 1))
	for level := 1; level <= 4; level++ {
		fresh, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevel(level)), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		want := fresh.EncodeAll(payload, nil)
		fresh.Close()
		for range 2 {
			enc, err := spzEncoder(level)
			if err != nil {
				t.Fatal(err)
			}
			if got := enc.EncodeAll(payload, nil); !bytes.Equal(got, want) {
				t.Fatalf("level %d: the shared encoder wrote %d bytes unlike a new one's %d", level, len(got), len(want))
			}
		}
	}
}

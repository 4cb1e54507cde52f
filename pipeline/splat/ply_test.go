package splat

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustWritePLY(t testing.TB, c *Cloud) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WritePLY(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func shuffledProps(deg int) []plyProp {
	ps := splatProps(deg, false)
	// rotations first, then everything else reversed: any order must work.
	var out []plyProp
	for i := len(ps) - 1; i >= 0; i-- {
		out = append(out, ps[i])
	}
	for i := range out {
		if out[i].name == "x" || out[i].name == "y" || out[i].name == "z" {
			out[i].typ = "double"
		}
	}
	return out
}

func withExtras(ps []plyProp, extras ...plyProp) []plyProp {
	out := append([]plyProp(nil), ps[:3]...)
	out = append(out, extras...)
	return append(out, ps[3:]...)
}

var faceBin = plyExtra{
	header: "element face 2\nproperty list uchar int vertex_indices\nproperty uchar flags\n",
	body:   "\x03\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x09" + "\x00\x05",
}

type plyFixture struct {
	name     string
	gen      func(t testing.TB) []byte
	want     *Cloud // nil when an error is expected
	info     PLYInfo
	err      error
	errParts []string
}

func plyFixtures() []plyFixture {
	ascii := codecRandCloud(1, 4, 0)
	le := codecRandCloud(2, 5, 1)
	be := codecRandCloud(3, 5, 2)
	deg3 := codecRandCloud(4, 3, 3)
	faceFirst := codecRandCloud(5, 3, 0)
	nan := codecRandCloud(6, 4, 0)
	nan.Pos[3*2+1] = float32(math.NaN())
	return []plyFixture{
		{name: "ascii.ply", want: ascii,
			gen: func(testing.TB) []byte {
				return encodePLYFixture(ascii, "ascii", withExtras(splatProps(0, true), plyProp{"red", "uchar"}), nil, nil)
			},
			info: PLYInfo{Format: "ascii", Vertices: 4, HasNormals: true, Ignored: []string{"red"}}},
		{name: "binary_le_normals.ply", want: le,
			gen: func(testing.TB) []byte {
				return encodePLYFixture(le, "binary_little_endian",
					withExtras(splatProps(1, true), plyProp{"red", "uchar"}, plyProp{"id", "int"}), nil, []plyExtra{faceBin})
			},
			info: PLYInfo{Format: "binary_little_endian", Vertices: 5, SHDegree: 1, HasNormals: true, Ignored: []string{"red", "id"}}},
		{name: "binary_be_nonormals.ply", want: be,
			gen: func(testing.TB) []byte {
				return encodePLYFixture(be, "binary_big_endian", shuffledProps(2), nil, nil)
			},
			info: PLYInfo{Format: "binary_big_endian", Vertices: 5, SHDegree: 2}},
		{name: "deg3.ply", want: deg3,
			gen:  func(t testing.TB) []byte { return mustWritePLY(t, deg3) },
			info: PLYInfo{Format: "binary_little_endian", Vertices: 3, SHDegree: 3, HasNormals: true}},
		{name: "face_first.ply", want: faceFirst,
			gen: func(testing.TB) []byte {
				return encodePLYFixture(faceFirst, "binary_little_endian", splatProps(0, false), []plyExtra{faceBin}, nil)
			},
			info: PLYInfo{Format: "binary_little_endian", Vertices: 3}},
		{name: "mesh.ply", err: ErrNotSplat, errParts: []string{"f_dc_0", "opacity", "rot_3", "line 4"},
			gen: func(testing.TB) []byte {
				return []byte("ply\nformat ascii 1.0\ncomment a triangle\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n" +
					"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
			}},
		{name: "truncated.ply", err: ErrTruncated, errParts: []string{"vertex", "byte"},
			gen: func(t testing.TB) []byte {
				b := mustWritePLY(t, codecRandCloud(7, 10, 0))
				return b[:len(b)-30]
			}},
		{name: "nan.ply", err: ErrInvalidCloud, errParts: []string{"Gaussian 2", "position", "NaN"},
			gen: func(testing.TB) []byte {
				return encodePLYFixture(nan, "binary_little_endian", splatProps(0, true), nil, nil)
			}},
		{name: "packed_chunk.ply", err: ErrPackedPLY, errParts: []string{"chunk", "line 3"},
			gen: func(testing.TB) []byte {
				return []byte("ply\nformat binary_little_endian 1.0\nelement chunk 1\nproperty float min_x\nproperty float max_x\n" +
					"element vertex 256\nproperty uint packed_position\nproperty uint packed_rotation\nproperty uint packed_scale\n" +
					"property uint packed_color\nend_header\n" + strings.Repeat("\x00", 8+256*16))
			}},
		{name: "huge_count.ply", err: ErrTruncated, errParts: []string{"40000000 vertices", "only 64 remain"},
			gen: func(testing.TB) []byte {
				h := plyWriteHeader(40_000_000, 0)
				return append([]byte(h), make([]byte, 64)...)
			}},
		{name: "over_limit.ply", err: ErrFormat, errParts: []string{"60000000", "limit", "line 3"},
			gen: func(testing.TB) []byte { return []byte(plyWriteHeader(60_000_000, 0)) }},
		{name: "bad_rest.ply", err: ErrFormat, errParts: []string{"6 f_rest_*"},
			gen: func(testing.TB) []byte {
				ps := withExtras(splatProps(0, false), plyProp{"f_rest_0", "float"}, plyProp{"f_rest_1", "float"},
					plyProp{"f_rest_2", "float"}, plyProp{"f_rest_3", "float"}, plyProp{"f_rest_4", "float"}, plyProp{"f_rest_5", "float"})
				return []byte(strings.Split(string(encodePLYFixture(NewCloud(0, 0), "binary_little_endian", ps, nil, nil)), "end_header")[0] + "end_header\n")
			}},
	}
}

func TestReadPLYFixtures(t *testing.T) {
	t.Parallel()
	for _, fx := range plyFixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			data := checkGolden(t, "ply", fx.name, fx.gen(t))
			path := filepath.Join("testdata", "ply", fx.name)
			c, info, err := ReadPLYFile(path)
			if fx.err != nil {
				if !errors.Is(err, fx.err) {
					t.Fatalf("ReadPLYFile error = %v, want %v", err, fx.err)
				}
				var pe *PLYError
				if !errors.As(err, &pe) || pe.Path != path {
					t.Fatalf("error %v is not a *PLYError with the path", err)
				}
				for _, part := range append(fx.errParts, path) {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not mention %q", err, part)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fx.want, c); diff != "" {
				t.Errorf("cloud mismatch (-want +got):\n%s", diff)
			}
			got := PLYInfo{Format: info.Format, Vertices: info.Vertices, SHDegree: info.SHDegree,
				HasNormals: info.HasNormals, Ignored: info.Ignored}
			if diff := cmp.Diff(fx.info, got); diff != "" {
				t.Errorf("info mismatch (-want +got):\n%s", diff)
			}
			// The same bytes through a reader of unknown length.
			c2, _, err := ReadPLY(io.MultiReader(bytes.NewReader(data)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fx.want, c2); diff != "" {
				t.Errorf("streamed cloud mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPLYRoundTripExact(t *testing.T) {
	t.Parallel()
	for deg := range MaxSHDegree + 1 {
		c := codecRandCloud(uint64(10+deg), 257, deg)
		got, info, err := ReadPLY(bytes.NewReader(mustWritePLY(t, c)))
		if err != nil {
			t.Fatalf("degree %d: %v", deg, err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("degree %d round trip (-want +got):\n%s", deg, diff)
		}
		if info.SHDegree != deg || !info.HasNormals || len(info.Ignored) != 0 {
			t.Errorf("degree %d info = %+v", deg, info)
		}
	}
}

func TestWritePLYPassesGate(t *testing.T) {
	t.Parallel()
	for deg := range MaxSHDegree + 1 {
		g := CheckPLYGate(mustWritePLY(t, codecRandCloud(20, 9, deg)))
		if !g.OK {
			t.Errorf("degree %d: WritePLY output fails the PLY gate: %v", deg, g.Reasons)
		}
	}
}

func TestWritePLYRefusesInvalid(t *testing.T) {
	t.Parallel()
	c := codecRandCloud(21, 3, 0)
	c.LogScale[4] = float32(math.Inf(1))
	if err := WritePLY(io.Discard, c); !errors.Is(err, ErrInvalidCloud) {
		t.Fatalf("WritePLY(Inf) = %v, want ErrInvalidCloud", err)
	}
}

func TestReadPLYErrors(t *testing.T) {
	t.Parallel()
	good := string(mustWritePLY(t, codecRandCloud(22, 1, 0)))
	tests := []struct {
		name  string
		in    string
		err   error
		parts []string
	}{
		{"empty", "", ErrTruncated, []string{"line 1"}},
		{"not ply", "PK\x03\x04garbage\n", ErrFormat, []string{"line 1", "not a PLY"}},
		{"no end_header", "ply\nformat ascii 1.0\nelement vertex 1\n", ErrTruncated, []string{"end_header"}},
		{"bad format", "ply\nformat binary_middle_endian 1.0\nend_header\n", ErrFormat, []string{"line 2", "binary_middle_endian"}},
		{"bad type", "ply\nformat ascii 1.0\nelement vertex 1\nproperty half x\nend_header\n", ErrFormat, []string{"line 4", "half"}},
		{"dup property", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float x\nend_header\n", ErrFormat, []string{"line 5", `"x"`}},
		{"no vertex", "ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n", ErrNotSplat, []string{"no vertex"}},
		{"list in vertex", strings.Replace(good, "property float opacity", "property list uchar float opacity", 1), ErrFormat, []string{"opacity", "list"}},
		{"ascii bad value", "ply\nformat ascii 1.0\n" + strings.SplitN(good, "\n", 3)[2][:strings.Index(strings.SplitN(good, "\n", 3)[2], "end_header")] +
			"end_header\n" + strings.Repeat("1 ", 16) + "zz\n", ErrFormat, []string{"rot_3", "zz", "line 22"}},
		{"ascii short", "ply\nformat ascii 1.0\n" + strings.SplitN(good, "\n", 3)[2][:strings.Index(strings.SplitN(good, "\n", 3)[2], "end_header")] +
			"end_header\n1 2 3" + strings.Repeat(" ", 40) + "\n", ErrFormat, []string{"3 values, want 17"}},
		{"huge face", "ply\nformat binary_little_endian 1.0\nelement face 9000000000000000000\nproperty int a\nproperty int b\n" + strings.SplitN(good, "\n", 3)[2], ErrFormat, []string{"face", "overflows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ReadPLY(strings.NewReader(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
		})
	}
}

// A huge declared count on a stream of unknown length must not allocate
// storage for the declared count before data arrives.
func TestReadPLYHugeCountStreamBoundedAlloc(t *testing.T) {
	hdr := plyWriteHeader(40_000_000, 0)
	in := io.MultiReader(strings.NewReader(hdr), bytes.NewReader(make([]byte, 1000)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadPLY(in)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	// 40M Gaussians would be 2.2 GB; the bounded chunks need a few MB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("allocated %d bytes for a 1 kB body", got)
	}
}

func TestPLYInfoNote(t *testing.T) {
	t.Parallel()
	in := PLYInfo{Ignored: []string{"red", "id"}, Elements: []string{"vertex", "face"}}
	if got, want := in.Note(), "ignored vertex properties: red, id; skipped elements: face"; got != want {
		t.Errorf("Note() = %q, want %q", got, want)
	}
	if got := (&PLYInfo{Elements: []string{"vertex"}}).Note(); got != "" {
		t.Errorf("Note() = %q, want empty", got)
	}
}

func TestReadPLYFileMissing(t *testing.T) {
	t.Parallel()
	_, _, err := ReadPLYFile(filepath.Join(t.TempDir(), "nope.ply"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

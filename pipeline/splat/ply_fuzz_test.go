package splat

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addFixtureSeeds(f *testing.F, dir string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadPLY(f *testing.F) {
	addFixtureSeeds(f, "ply")
	f.Add(mustWritePLY(f, codecRandCloud(90, 3, 1)))
	f.Add([]byte("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n"))
	f.Add([]byte("ply\r\nformat binary_big_endian 1.0\r\nelement face 2\r\nproperty list uchar int vertex_indices\r\nend_header\r\n"))
	f.Add([]byte("ply\nformat binary_little_endian 1.0\nelement vertex 49999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, info, err := ReadPLY(bytes.NewReader(data))
		c2, _, err2 := ReadPLY(io.MultiReader(bytes.NewReader(data)))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("known-length and streamed reads disagree: %v vs %v", err, err2)
		}
		if err != nil {
			if _, ok := errors.AsType[*PLYError](err); !ok {
				t.Fatalf("error %v is not a *PLYError", err)
			}
			return
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("known-length and streamed clouds differ:\n%s", diff)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ReadPLY returned an invalid cloud: %v", err)
		}
		if info.Vertices != c.Len() || info.SHDegree != c.SHDegree {
			t.Fatalf("info %+v does not match the cloud", info)
		}
		var b bytes.Buffer
		if err := WritePLY(&b, c); err != nil {
			t.Fatal(err)
		}
		back, _, err := ReadPLY(&b)
		if err != nil {
			t.Fatalf("re-reading WritePLY output: %v", err)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("PLY round trip differs:\n%s", diff)
		}
	})
}

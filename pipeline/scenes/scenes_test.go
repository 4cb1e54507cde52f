package scenes

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/splat"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestCatalog(t *testing.T) {
	t.Parallel()
	names := Names()
	if len(names) < 16 {
		t.Fatalf("%d scenes, want at least 16", len(names))
	}
	seen := map[string]bool{}
	for _, s := range All() {
		if seen[s.Name] || seen[s.Prompt] {
			t.Errorf("duplicate scene %q / %q", s.Name, s.Prompt)
		}
		seen[s.Name], seen[s.Prompt] = true, true
	}
	tests := []struct {
		query, want string
		wantErr     bool
	}{
		{"red-cube", "red-cube", false},
		{"a red cube", "red-cube", false},
		{"  A Blue Sphere On A Yellow Box ", "sphere-on-box", false},
		{"snowman", "snowman", false},
		{"a purple elephant", "", true},
		{"", "", true},
	}
	for _, tc := range tests {
		s, err := Get(tc.query)
		if tc.wantErr {
			if !errors.Is(err, ErrUnknownScene) {
				t.Errorf("Get(%q) error = %v, want ErrUnknownScene", tc.query, err)
			}
			continue
		}
		if err != nil || s.Name != tc.want {
			t.Errorf("Get(%q) = %q, %v; want %q", tc.query, s.Name, err, tc.want)
		}
	}
}

// dcRGB returns Gaussian i's DC colour.
func dcRGB(c *splat.Cloud, i int) [3]float64 {
	k := c.K()
	var rgb [3]float64
	for ch := range 3 {
		rgb[ch] = 0.5 + shC0*float64(c.SH[i*k*3+ch])
	}
	return rgb
}

func TestBuildInvariants(t *testing.T) {
	t.Parallel()
	count := 3000
	if !testing.Short() {
		count = 8000
	}
	for _, s := range All() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c := s.Build(7, count)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if c.Len() != count || c.SHDegree != 0 {
				t.Fatalf("%d Gaussians of SH degree %d, want %d of degree 0", c.Len(), c.SHDegree, count)
			}
			var mean, lo, hi [3]float64
			lo = [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
			hi = [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
			identity := 0
			for i := range count {
				for a := range 3 {
					v := float64(c.Pos[3*i+a])
					mean[a] += v / float64(count)
					lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
				}
				q := c.Rot[4*i : 4*i+4]
				if n := math.Sqrt(float64(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])); math.Abs(n-1) > 1e-5 {
					t.Fatalf("Gaussian %d: |q| = %v", i, n)
				}
				if q[0] == 1 {
					identity++
				}
				for ch, v := range dcRGB(c, i) {
					if v < -1e-6 || v > 1+1e-6 {
						t.Fatalf("Gaussian %d: colour channel %d = %v outside 0..1", i, ch, v)
					}
				}
				sc := c.Scale(i)
				if sc[2] > sc[0] || sc[2] > sc[1] {
					t.Fatalf("Gaussian %d: scales %v, want flat along the normal (z)", i, sc)
				}
			}
			for a := range 3 {
				if math.Abs(mean[a]) > 1e-4 {
					t.Errorf("axis %d: mean %v, want 0", a, mean[a])
				}
			}
			if ext := max(hi[0]-lo[0], hi[1]-lo[1], hi[2]-lo[2]); math.Abs(ext-1) > 1e-5 {
				t.Errorf("largest extent %v, want 1", ext)
			}
			if identity == count {
				t.Error("every rotation is the identity (the validator rejects that)")
			}
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	s, err := Get("a green torus on a white plate")
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Build(3, 2000), s.Build(3, 2000)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different clouds:\n%.400s", diff)
	}
	if other := s.Build(4, 2000); cmp.Equal(a.Pos, other.Pos) {
		t.Error("seeds 3 and 4 gave the same positions")
	}
	if n := s.Build(0, 0).Len(); n != DefaultCount {
		t.Errorf("default count %d, want %d", n, DefaultCount)
	}
	if n := s.Build(0, 1).Len(); n < minPerPart {
		t.Errorf("count 1 gave %d Gaussians, want the per-scene minimum", n)
	}
}

func TestBuildPassesValidatorGate(t *testing.T) {
	t.Parallel()
	s, _ := Get("red-cube")
	if g := splat.CheckGate(s.Build(1, 0)); !g.OK {
		t.Errorf("default red cube fails the gate: %v", g.Reasons)
	}
}

// TestColours checks that each named colour dominates the mean DC colour.
func TestColours(t *testing.T) {
	t.Parallel()
	const r, g, b = 0, 1, 2
	tests := []struct {
		scene string
		top   int // the channel that must be largest
	}{
		{"a red cube", r},
		{"a blue sphere", b},
		{"a green torus", g},
		{"a blue mug", b},
		{"a purple capsule", b},
		{"a red mushroom", r},
		{"an orange traffic cone", r},
	}
	for _, tc := range tests {
		s, err := Get(tc.scene)
		if err != nil {
			t.Fatal(err)
		}
		c := s.Build(1, 2000)
		var m [3]float64
		for i := range c.Len() {
			for ch, v := range dcRGB(c, i) {
				m[ch] += v / float64(c.Len())
			}
		}
		for ch := range 3 {
			if ch != tc.top && m[ch] >= m[tc.top] {
				t.Errorf("%s: mean colour %.3f, want channel %d largest", tc.scene, m, tc.top)
			}
		}
	}
}

// stats is the golden summary of one scene.
func stats(c *splat.Cloud) string {
	var b strings.Builder
	n := c.Len()
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var rgb [3]float64
	var logScale float64
	for i := range n {
		for a := range 3 {
			v := float64(c.Pos[3*i+a])
			lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
			logScale += float64(c.LogScale[3*i+a]) / float64(3*n)
		}
		for ch, v := range dcRGB(c, i) {
			rgb[ch] += v / float64(n)
		}
	}
	fmt.Fprintf(&b, "count %d\nsh_degree %d\n", n, c.SHDegree)
	fmt.Fprintf(&b, "min %.4f %.4f %.4f\nmax %.4f %.4f %.4f\n", lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])
	fmt.Fprintf(&b, "mean_rgb %.4f %.4f %.4f\nmean_log_scale %.3f\n", rgb[0], rgb[1], rgb[2], logScale)
	return b.String()
}

func TestGoldenStats(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"snowman", "checkered-cube"} {
		s, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		got := stats(s.Build(1, 5000))
		path := filepath.Join("testdata", name+".stats.golden")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s stats (-golden +got):\n%s", name, diff)
		}
	}
}

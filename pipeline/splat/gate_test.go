package splat

import (
	"math"
	"strings"
	"testing"
)

func TestCheckGate(t *testing.T) {
	t.Parallel()
	good := func() *Cloud { return codecRandCloud(30, GateMinGaussians, 0) }
	tests := []struct {
		name     string
		mutate   func(c *Cloud) *Cloud
		ok       bool
		reason   string
		warnings int
	}{
		{"good", func(c *Cloud) *Cloud { return c }, true, "", 0},
		{"too few", func(c *Cloud) *Cloud { return codecRandCloud(31, GateMinGaussians-1, 0) }, false, "6999 Gaussians", 0},
		{"first points ones", func(c *Cloud) *Cloud {
			for i := range 9 {
				c.Pos[i] = 1
			}
			return c
		}, false, "first 3 points", 0},
		{"two of three ones", func(c *Cloud) *Cloud {
			for i := range 6 {
				c.Pos[i] = 1
			}
			return c
		}, true, "", 0},
		{"transparent", func(c *Cloud) *Cloud {
			for i := range c.Len() * 81 / 100 {
				c.OpacityLogit[i] = -8 // sigmoid ≈ 3.4e-4
			}
			return c
		}, false, "below 0.001", 0},
		{"80 percent transparent passes", func(c *Cloud) *Cloud {
			for i := range c.Len() * 80 / 100 {
				c.OpacityLogit[i] = -8
			}
			return c
		}, true, "", 0},
		{"identity rotations", func(c *Cloud) *Cloud {
			for i := range c.Len() {
				copy(c.Rot[4*i:], []float32{2, 0, 0, 0}) // identity once normalised
			}
			return c
		}, false, "identity", 0},
		{"nan", func(c *Cloud) *Cloud { c.SH[5] = float32(math.NaN()); return c }, false, "Gaussian 1: sh", 0},
		{"far positions warn", func(c *Cloud) *Cloud { c.Pos[10] = 3000; c.Pos[20] = -2048; return c }, true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := CheckGate(tt.mutate(good()))
			if g.OK != tt.ok || g.OK != (len(g.Reasons) == 0) {
				t.Fatalf("OK = %v, want %v; reasons %q", g.OK, tt.ok, g.Reasons)
			}
			if tt.reason != "" && (len(g.Reasons) != 1 || !strings.Contains(g.Reasons[0], tt.reason)) {
				t.Errorf("reasons %q, want one mentioning %q", g.Reasons, tt.reason)
			}
			if len(g.Warnings) != tt.warnings {
				t.Errorf("warnings %q, want %d", g.Warnings, tt.warnings)
			}
		})
	}
}

func TestCheckPLYGate(t *testing.T) {
	t.Parallel()
	valid := string(mustWritePLY(t, codecRandCloud(32, 2, 0)))
	valid1 := string(mustWritePLY(t, codecRandCloud(32, 2, 1)))
	tests := []struct {
		name   string
		data   string
		reason string // "" = must pass
	}{
		{"writer output", valid, ""},
		{"degree 1", valid1, ""},
		{"crlf", strings.ReplaceAll(valid[:strings.Index(valid, "end_header")], "\n", "\r\n") + valid[strings.Index(valid, "end_header"):], "CR"},
		{"comment", strings.Replace(valid, "element vertex", "comment hi\nelement vertex", 1), "line 3"},
		{"big endian", strings.Replace(valid, "binary_little_endian", "binary_big_endian", 1), "line 2"},
		{"double", strings.Replace(valid, "property float nx", "property double nx", 1), "line 7"},
		{"zero vertices", strings.Replace(valid, "vertex 2", "vertex 0", 1), "outside 1..10485760"},
		{"over decoder cap", strings.Replace(valid, "vertex 2", "vertex 10000001", 1), "decoder"},
		{"missing rot", strings.Replace(valid, "property float rot_3\n", "", 1), "rot_3"},
		{"rest not multiple of 3", strings.Replace(valid1, "property float f_rest_4\n", "", 1), "4 contiguous"},
		{"short body", valid[:len(valid)-4], "body has"},
		{"no end_header", "ply\nformat binary_little_endian 1.0\n", "end_header"},
		{"ascii", strings.Replace(valid, "binary_little_endian", "ascii", 1), "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := CheckPLYGate([]byte(tt.data))
			if tt.reason == "" {
				if !g.OK {
					t.Fatalf("want OK, got %q", g.Reasons)
				}
				return
			}
			if g.OK {
				t.Fatalf("want a failure mentioning %q, got OK", tt.reason)
			}
			found := false
			for _, r := range g.Reasons {
				found = found || strings.Contains(r, tt.reason)
			}
			if !found {
				t.Errorf("reasons %q do not mention %q", g.Reasons, tt.reason)
			}
		})
	}
}

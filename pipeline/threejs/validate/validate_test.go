package validate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testValidator returns a validator with the subnet's limits; without the
// set-up's files the test fails (make test runs the set-up first) unless
// -short, where it skips.
func testValidator(t testing.TB) *Validator {
	t.Helper()
	a, err := FindAssets()
	if err != nil {
		if testing.Short() {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	v, err := New(a, Spec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// generated are the rules whose breaking module is made here rather than
// hand-written (a megabyte of source, 50 KB of literals).
var generated = map[string][]byte{
	FileSizeExceeded: append([]byte("export default function generate(THREE) { return new THREE.Group(); }\n//"),
		bytes.Repeat([]byte("x"), 1<<20)...),
	LiteralBudgetExceeded: []byte("export default function generate(THREE) {\n  const d = [" +
		strings.Repeat("0.123456789, ", 5000) + "];\n  return new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial({ opacity: d[0] }));\n}\n"),
}

// TestRuleCodes: each module under testdata/fail breaks exactly the rule its
// file is named after; the validator must report that rule code first.
func TestRuleCodes(t *testing.T) {
	v := testValidator(t)
	files, _ := filepath.Glob("testdata/fail/*.js")
	cases := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[strings.TrimSuffix(filepath.Base(f), ".js")] = b
	}
	for rule, src := range generated {
		cases[rule] = src
	}
	// every rule code but RENDER_RUN_FAILED (the renderer's) has a module
	for _, rule := range []string{FileSizeExceeded, ParseError, MissingDefaultExport, MultipleTopLevelExports,
		AsyncNotAllowed, IdentifierNotAllowed, ForbiddenIdentifier, ForbiddenThreeAPI, UnknownThreeAPI,
		ThreeAliasForbidden, ThreeAtTopLevel, ComputedPropertyAccess, LiteralBudgetExceeded, ExecutionThrew,
		InvalidReturnType, EmptyScene, TimeoutExceeded, HeapExceeded, CycleDetected, VertexLimitExceeded,
		DrawCallLimitExceeded, DepthLimitExceeded, InstanceLimitExceeded, TextureDataExceeded, BoundingBoxOutOfRange} {
		if _, ok := cases[rule]; !ok {
			t.Errorf("no module breaks %s", rule)
		}
	}
	for rule, src := range cases {
		t.Run(rule, func(t *testing.T) {
			if testing.Short() && (rule == TimeoutExceeded || rule == HeapExceeded) {
				t.Skip("slow")
			}
			r, err := v.Check(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() {
				t.Fatalf("passed, want %s", rule)
			}
			if r.Failures[0].Rule != rule {
				t.Errorf("first failure %v, want %s (all: %v)", r.Failures[0], rule, r.Failures)
			}
		})
	}
}

// TestPass: modules that obey every rule pass, with plausible metrics.
func TestPass(t *testing.T) {
	v := testValidator(t)
	files, _ := filepath.Glob("testdata/pass/*.js")
	if len(files) == 0 {
		t.Fatal("no modules in testdata/pass")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.Check(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Fatalf("failed: %v", r.Failures)
			}
			if r.Metrics == nil || r.Metrics.DrawCalls == 0 || r.Metrics.Vertices == 0 || r.LiteralBytes == 0 {
				t.Errorf("metrics %+v, literal bytes %d", r.Metrics, r.LiteralBytes)
			}
		})
	}
}

// TestStaticDetails pins finer points of the static rules.
func TestStaticDetails(t *testing.T) {
	v := testValidator(t)
	const head = "export default function generate(THREE) {\n"
	const tail = "\n  return new THREE.Group();\n}\n"
	tests := []struct {
		name, body string
		want       string // "" = passes
	}{
		{"member named like a forbidden global", "const o = { fetch: 1 }; o.fetch = 2;", ""},
		{"local named like a forbidden global", "const fetch = 1;", ForbiddenIdentifier},
		{"Math.random", "const r = Math.random();", ForbiddenIdentifier},
		{"seededRandom", "const r = THREE.MathUtils.seededRandom(1);", ForbiddenThreeAPI},
		{"seededRandom destructured", "const { MathUtils } = THREE; const r = MathUtils.generateUUID();", ForbiddenThreeAPI},
		{"forbidden via destructuring", "const { MeshLambertMaterial } = THREE;", ForbiddenThreeAPI},
		{"rest destructure", "const { Mesh, ...rest } = THREE;", ThreeAliasForbidden},
		{"THREE in an array", "const a = [THREE];", ThreeAliasForbidden},
		{"THREE to a renamed parameter", "function f(T) { return T; } f(THREE);", ThreeAliasForbidden},
		{"THREE to a THREE parameter", "function f(THREE) { return new THREE.Group(); } f(THREE);", ""},
		{"computed on Math", "const k = 'PI'; const p = Math[k];", ComputedPropertyAccess},
		{"computed on a local", "const a = [1, 2]; const b = a[0];", ""},
		{"unbound write", "x = 3;", IdentifierNotAllowed},
		{"import()", "const m = import('x');", ForbiddenIdentifier},
		{"top-level await is a parse error", "", ""},
		{"numeric literal counted as source text", "const a = 1.000;", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := v.Static(context.Background(), []byte(head+tt.body+tail))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "" && !r.OK():
				t.Errorf("failed %v, want pass", r.Failures)
			case tt.want != "" && !r.Has(tt.want):
				t.Errorf("failures %v, want %s", r.Failures, tt.want)
			}
		})
	}
	// the literal budget counts numeric literals' source text: "1.000" is 5 bytes
	a, _ := v.Static(context.Background(), []byte(head+"const a = 1;"+tail))
	b, _ := v.Static(context.Background(), []byte(head+"const a = 1.000;"+tail))
	if b.LiteralBytes-a.LiteralBytes != 4 {
		t.Errorf("literal bytes %d vs %d, want a difference of 4", b.LiteralBytes, a.LiteralBytes)
	}
}

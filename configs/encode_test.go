package configs

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// roundTripProfile encodes p and parses it back.
func roundTripProfile(t testing.TB, p Profile) {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	q, err := ParseProfile("encoded.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("parse of encoded profile: %v\n%s", err, buf.Bytes())
	}
	if diff := cmp.Diff(p, q); diff != "" {
		t.Fatalf("round trip changed the profile (-before +after):\n%s\n%s", diff, buf.Bytes())
	}
}

func roundTripSweep(t testing.TB, s Sweep) {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	r, err := ParseSweep("encoded.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("parse of encoded sweep: %v\n%s", err, buf.Bytes())
	}
	if diff := cmp.Diff(s, r); diff != "" {
		t.Fatalf("round trip changed the sweep (-before +after):\n%s\n%s", diff, buf.Bytes())
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range PresetNames() {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		roundTripProfile(t, p)
	}
	for _, name := range SweepPresetNames() {
		s, err := SweepPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		roundTripSweep(t, s)
	}
	for name := range goodFixtures {
		p, s, err := load(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "sweep-") {
			roundTripSweep(t, s)
		} else {
			roundTripProfile(t, p)
		}
	}
	// Values set in code, including awkward strings, survive too.
	p := DefaultProfile()
	for _, a := range []string{"name=yes", "ort_lib=0x10", "model_dir=: #x", "fit.lr_scale=1e-07", "encode.max_bytes=9007199254740993"} {
		if err := p.Set(a); err != nil {
			t.Fatal(err)
		}
	}
	roundTripProfile(t, p)
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := DefaultProfile().Encode(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "default-profile.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("Encode output differs from %s (-want +got):\n%s", golden, diff)
	}
	if !strings.HasPrefix(buf.String(), "# splatbench profile \"default\"") {
		t.Errorf("no header comment:\n%s", buf.String())
	}
}

// A profile embedded in another document decodes with the same rules.
func TestYAMLInterfaces(t *testing.T) {
	t.Parallel()
	type record struct {
		Profile Profile `yaml:"profile"`
		Sweep   Sweep   `yaml:"sweep"`
	}
	in := record{Profile: DefaultProfile(), Sweep: DefaultSweep()}
	in.Profile.Fit.Iterations = 77
	data, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out record
	if err := yaml.Unmarshal(data, &out); err != nil {
		t.Fatalf("Unmarshal: %v\n%s", err, data)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("(-in +out):\n%s", diff)
	}
	err = yaml.Unmarshal([]byte("profile:\n  fit:\n    iterations: -1\n    bogus: 1\n"), &out)
	if want := "4:5: fit.bogus: unknown field"; err == nil || err.Error() != want {
		t.Errorf("Unmarshal of a bad embedded profile = %v, want %s", err, want)
	}
}

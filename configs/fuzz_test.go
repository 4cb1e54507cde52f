package configs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds every testdata fixture and embedded preset whose name
// matches the kind ("profile" or "sweep") to the fuzz corpus.
func addSeeds(f *testing.F, sweeps bool) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "sweep-") != sweeps {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	presets, _ := fs.Glob(presetFS, "presets/*.yaml")
	for _, file := range presets {
		if strings.HasPrefix(filepath.Base(file), sweepPrefix) != sweeps {
			continue
		}
		data, _ := presetFS.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("fit: {iterations: .nan}"))
	f.Add([]byte("knobs: [{name: fit.iterations, values: [1e400]}]"))
}

// checkErr requires a parse error to be a one-line-per-problem ErrInvalid.
func checkErr(t *testing.T, err error) {
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error does not wrap ErrInvalid: %v", err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

func FuzzParseProfile(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile("fuzz.yaml", data)
		if err != nil {
			checkErr(t, err)
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed profile does not validate: %v", err)
		}
		roundTripProfile(t, p)
	})
}

func FuzzParseSweep(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSweep("fuzz.yaml", data)
		if err != nil {
			checkErr(t, err)
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed sweep does not validate: %v", err)
		}
		roundTripSweep(t, s)
	})
}

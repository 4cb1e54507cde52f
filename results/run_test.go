package results

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 21, 30, 0, 0, time.FixedZone("CET", 3600))

func TestCreate(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "runs")
	r, err := Create(out, "tune", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := "20261125-203000-tune"; r.ID() != want {
		t.Errorf("ID = %q, want %q (UTC)", r.ID(), want)
	}
	if r.Dir() != filepath.Join(out, r.ID()) {
		t.Errorf("Dir = %q", r.Dir())
	}
	if got, want := r.Path("plots/front.svg"), filepath.Join(out, r.ID(), "plots", "front.svg"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if fi, err := os.Stat(r.Dir()); err != nil || !fi.IsDir() {
		t.Fatalf("run directory missing: %v", err)
	}

	// Same second, same command: a suffixed, distinct directory.
	suffixed := regexp.MustCompile(`^20261125-203000-tune-[0-9a-f]{6}$`)
	seen := map[string]bool{r.ID(): true}
	for range 3 {
		r2, err := Create(out, "tune", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !suffixed.MatchString(r2.ID()) || seen[r2.ID()] {
			t.Errorf("clash id = %q, want a new suffixed id", r2.ID())
		}
		seen[r2.ID()] = true
	}
}

func TestCreateCommandNames(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	tests := []struct {
		command, want string
		ok            bool
	}{
		{"bench", "20261125-203000-bench", true},
		{"Models Check", "20261125-203000-models-check", true},
		{"../../etc", "20261125-203000-etc", true},
		{"///", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		r, err := Create(out, tt.command, testNow)
		if (err == nil) != tt.ok {
			t.Errorf("Create(%q) error = %v, want ok=%v", tt.command, err, tt.ok)
			continue
		}
		if tt.ok && r.ID() != tt.want {
			t.Errorf("Create(%q) id = %q, want %q", tt.command, r.ID(), tt.want)
		}
		if tt.ok && filepath.Dir(r.Dir()) != out {
			t.Errorf("Create(%q) escaped the output directory: %s", tt.command, r.Dir())
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	r, err := Create(out, "tune", testNow)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.AppendRecords()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(sampleRecord("t1")); err != nil {
		t.Fatal(err)
	}
	w.Close()

	again, err := Open(r.Dir() + string(filepath.Separator))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != r.ID() {
		t.Errorf("reopened ID = %q, want %q", again.ID(), r.ID())
	}
	recs, warns, err := again.ReadRecords()
	if err != nil || len(warns) != 0 || len(recs) != 1 || recs[0].ID != "t1" {
		t.Errorf("ReadRecords = %v, %v, %v", recs, warns, err)
	}

	if _, err := Open(filepath.Join(out, "missing")); err == nil {
		t.Error("Open(missing) succeeded")
	}
	file := filepath.Join(out, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v", err)
	}
	empty, _ := Create(out, "bench", testNow)
	if recs, warns, err := empty.ReadRecords(); recs != nil || warns != nil || err != nil {
		t.Errorf("ReadRecords on a fresh run = %v, %v, %v; want nothing", recs, warns, err)
	}
}

package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("file holds %q (%v), want %q", got, err, "two")
	}
	// An existing file keeps its permissions.
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want the existing 0600", fi.Mode().Perm(), err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only state.json", names)
	}
}

// TestFailedWriteKeepsOldFile: whatever step fails, the old file is intact
// and no temporary file is left in its directory.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to write
		write func(w io.Writer) error
		want  error // errors.Is target; nil: any error
	}{
		{name: "writer fails halfway", write: func(w io.Writer) error {
			if _, err := io.WriteString(w, strings.Repeat("half", 1<<14)); err != nil {
				return err
			}
			return errBoom
		}, want: errBoom},
		{name: "writer fails at once", write: func(io.Writer) error { return errBoom }, want: errBoom},
		{name: "rename over a directory", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sub")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, write: func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }},
		{name: "directory missing", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, "nope", "x")
		}, write: func(w io.Writer) error { return nil }, want: fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			old := filepath.Join(dir, "old.txt")
			if err := os.WriteFile(old, []byte("old contents"), 0o644); err != nil {
				t.Fatal(err)
			}
			path := old
			if tc.setup != nil {
				path = tc.setup(t, dir)
			}
			before := dirNames(t, dir)
			err := WriteWith(path, 0o644, tc.write)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if got, err := os.ReadFile(old); err != nil || string(got) != "old contents" {
				t.Errorf("old file holds %q (%v) after a failed write", got, err)
			}
			if after := dirNames(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("directory held %v before and %v after: a temporary file was left", before, after)
			}
		})
	}
}

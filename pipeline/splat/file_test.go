package splat

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomic: WriteFile replaces a file whole, and a write that
// fails (here the rename, onto a directory) leaves no temporary file.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := codecRandCloud(3, 64, 1)
	path := filepath.Join(dir, "c.spz")
	for range 2 {
		if err := WriteFile(path, c, FormatSPZ); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, err := ReadFile(path); err != nil || got.Len() != c.Len() {
		t.Fatalf("read back: %v", err)
	}
	sub := filepath.Join(dir, "sub.ply")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sub, c, FormatPLY); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Errorf("directory holds %v, want only c.spz and sub.ply: a temporary file was left", names)
	}
}

package validator

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStateSaveFailureLeavesNothing: a state save that fails (the path is
// a directory, so the rename fails) leaves no temporary file, and a good
// save round-trips.
func TestStateSaveFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := &stateFile{Version: stateVersion, Validator: "v", Miners: map[string]*Miner{"m": newMiner("m", 3)}}
	path := filepath.Join(dir, "state.json")
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path, "v")
	if err != nil || got.Miners["m"] == nil || got.Miners["m"].UID != 3 {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	bad := filepath.Join(dir, "busy")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.save(bad); err == nil {
		t.Fatal("saving over a directory succeeded")
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want state.json and busy: a temporary file was left", names)
	}
}

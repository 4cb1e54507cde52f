package miner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestStateGolden: the state file a miner leaves when stopped while
// generating (one task held, one cooldown known) matches the golden file.
func TestStateGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(2)
		m, _ := newMiner(t, w, Options{Threshold: 0.6, StateFile: path}, &fakeGen{took: 100 * time.Second})
		runFor(t, m, 3*time.Minute)
	})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "state.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("state file differs from %s (-want +got; -update rewrites):\n%s", golden, diff)
	}
}

func TestDecodeStateErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"syntax", `{"version":1,`, "s.json: offset"},
		{"type", `{"version":"one"}`, "field version at offset"},
		{"version", `{"version":7}`, "field version: 7, want 1"},
		{"null validator", `{"version":1,"validators":{"5A":null}}`, `validators["5A"]: null`},
		{"hotkey mismatch", `{"version":1,"validators":{"5A":{"hotkey":"5B"}}}`, `field hotkey is "5B"`},
		{"held without id", `{"version":1,"validators":{"5A":{"hotkey":"5A","held":{"task":{}}}}}`, "held.task: empty id"},
		{"result path", `{"version":1,"validators":{"5A":{"hotkey":"5A","held":{"task":{"id":"x"},"result_file":"../x"}}}}`, "not a plain name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeState("s.json", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decodeState(%s) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestLoadStateMissingFile(t *testing.T) {
	t.Parallel()
	st, err := loadState(filepath.Join(t.TempDir(), "none.json"))
	if err != nil || len(st.Validators) != 0 || st.Version != stateVersion {
		t.Errorf("loadState(missing) = %+v, %v; want an empty state", st, err)
	}
}

func FuzzDecodeState(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"validators":{"5A":{"hotkey":"5A","held":{"task":{"id":"t"},"generated":true}}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState("fuzz.json", b)
		if err != nil {
			return
		}
		// What decodes re-encodes to a state that decodes the same.
		enc, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		st2, err := decodeState("fuzz.json", enc)
		if err != nil {
			t.Fatalf("decoding the re-encoded state: %v", err)
		}
		enc2, _ := json.Marshal(st2)
		if !bytes.Equal(enc, enc2) {
			t.Errorf("round trip changed the state:\n%s\n%s", enc, enc2)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	vals := []Validator{{UID: 1, Hotkey: "5A"}}
	for _, tc := range []struct {
		name string
		opts Options
		want string // "" for valid
	}{
		{"defaults", Options{Validators: vals}, ""},
		{"no validators", Options{}, "validators: none"},
		{"empty hotkey", Options{Validators: []Validator{{UID: 3}}}, "validators[0] (uid 3): empty hotkey"},
		{"duplicate hotkey", Options{Validators: []Validator{{Hotkey: "5A"}, {Hotkey: "5A"}}}, "validators[1]: hotkey 5A repeats validators[0]"},
		{"negative workers", Options{Validators: vals, Workers: -1}, "workers: -1"},
		{"negative timeout", Options{Validators: vals, PullTimeout: -time.Second}, "pull timeout: -1s is negative"},
		{"threshold", Options{Validators: vals, Threshold: 1.5}, "threshold: 1.5 outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.opts
			o.setDefaults()
			err := o.validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	o := Options{Validators: []Validator{{Hotkey: "a"}, {Hotkey: "b"}}}
	o.setDefaults()
	got := []time.Duration{o.PullTimeout, o.SubmitTimeout, o.FailureBackoff, o.SubmitFailureBackoff, o.TaskCooldown}
	want := []time.Duration{12 * time.Second, 300 * time.Second, 300 * time.Second, 900 * time.Second, 300 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("protocol defaults (-want +got):\n%s", diff)
	}
	if o.Workers != 1 || o.QueueSize != 1 || o.Submitters != 2 || o.BlacklistAfter != 5 {
		t.Errorf("pool defaults: workers %d queue %d submitters %d blacklist-after %d", o.Workers, o.QueueSize, o.Submitters, o.BlacklistAfter)
	}
}

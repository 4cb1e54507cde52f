package miner

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// testHotkeys are SS58 addresses of development keys.
func testHotkeys(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		k, err := bittensor.KeypairFromURI(fmt.Sprintf("//MineTest%d", i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.SS58())
	}
	return out
}

func TestLoadValidators(t *testing.T) {
	t.Parallel()
	hk := testHotkeys(t, 3)
	tests := []struct {
		name     string
		file     string // file name: its extension does not matter
		content  string
		minStake float64
		want     []Validator
		wantErr  string // substring; "" for success
	}{
		{name: "yaml list", file: "v.yaml", content: fmt.Sprintf(
			"- uid: 1\n  hotkey: %s\n  address: 10.0.0.1:8092\n  stake: 5000\n- uid: 2\n  hotkey: %s\n  address: \"[::1]:8093\"\n", hk[0], hk[1]),
			minStake: 1000,
			want:     []Validator{{UID: 1, Hotkey: hk[0], Address: "10.0.0.1:8092"}, {UID: 2, Hotkey: hk[1], Address: "[::1]:8093"}}},
		{name: "json list", file: "v.json", content: fmt.Sprintf(`[{"uid": 7, "hotkey": %q, "address": "host.example:8092", "stake": 1000}]`, hk[2]),
			minStake: 1000, want: []Validator{{UID: 7, Hotkey: hk[2], Address: "host.example:8092"}}},
		{name: "validators key", file: "v.yaml", content: fmt.Sprintf("validators:\n  - uid: 3\n    hotkey: %s\n    address: 1.2.3.4:1\n", hk[0]),
			want: []Validator{{UID: 3, Hotkey: hk[0], Address: "1.2.3.4:1"}}},
		{name: "low stake skipped", file: "v.yaml", content: fmt.Sprintf(
			"- {uid: 1, hotkey: %s, address: 'a:1', stake: 999}\n- {uid: 2, hotkey: %s, address: 'b:2', stake: 1000}\n", hk[0], hk[1]),
			minStake: 1000, want: []Validator{{UID: 2, Hotkey: hk[1], Address: "b:2"}}},
		{name: "all below stake", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s, address: 'a:1', stake: 5}\n", hk[0]),
			minStake: 1000, wantErr: "v.yaml:1: no validator with stake >= 1000"},
		{name: "empty file", file: "v.yaml", content: "", wantErr: "v.yaml:1: no validators"},
		{name: "not a list", file: "v.yaml", content: "uid: 1\n", wantErr: `v.yaml:1: want a list of validators or a "validators" key`},
		{name: "scalar", file: "v.yaml", content: "hello\n", wantErr: "v.yaml:1: want a list"},
		{name: "item not a mapping", file: "v.yaml", content: "- 1\n- 2\n", wantErr: "v.yaml:1: validators[0]: want a mapping"},
		{name: "yaml syntax", file: "v.yaml", content: "- uid: 1\n  hotkey: [unclosed\n", wantErr: "v.yaml"},
		{name: "unknown field on its line", file: "v.yaml", content: fmt.Sprintf("- uid: 1\n  hotkey: %s\n  adress: a:1\n", hk[0]),
			wantErr: `v.yaml:3: validators[0]: unknown field "adress"`},
		{name: "bad line in second entry", file: "v.yaml", content: fmt.Sprintf(
			"- {uid: 1, hotkey: %s, address: 'a:1'}\n- {uid: 2, hotkey: %s, address: 'nope'}\n", hk[0], hk[1]),
			wantErr: `v.yaml:2: validators[1].address: "nope" is not host:port`},
		{name: "missing hotkey", file: "v.yaml", content: "- {uid: 1, address: 'a:1'}\n", wantErr: "v.yaml:1: validators[0].hotkey"},
		{name: "bad hotkey", file: "v.yaml", content: "- {uid: 1, hotkey: 5NotAnAddress, address: 'a:1'}\n", wantErr: "v.yaml:1: validators[0].hotkey"},
		{name: "missing address", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s}\n", hk[0]),
			wantErr: `v.yaml:1: validators[0].address: "" is not host:port`},
		{name: "no host", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s, address: ':8092'}\n", hk[0]), wantErr: "is not host:port"},
		{name: "port zero", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s, address: 'a:0'}\n", hk[0]), wantErr: "is not host:port"},
		{name: "port too big", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s, address: 'a:65536'}\n", hk[0]), wantErr: "is not host:port"},
		{name: "port not a number", file: "v.yaml", content: fmt.Sprintf("- {uid: 1, hotkey: %s, address: 'a:http'}\n", hk[0]), wantErr: "is not host:port"},
		{name: "uid wrong type", file: "v.yaml", content: fmt.Sprintf("- {uid: one, hotkey: %s, address: 'a:1'}\n", hk[0]), wantErr: "v.yaml:1: validators[0]"},
		{name: "negative uid", file: "v.yaml", content: fmt.Sprintf("- {uid: -1, hotkey: %s, address: 'a:1'}\n", hk[0]),
			wantErr: "v.yaml:1: validators[0].uid: -1 is negative"},
		{name: "duplicate hotkey", file: "v.yaml", content: fmt.Sprintf(
			"- {uid: 1, hotkey: %s, address: 'a:1'}\n- {uid: 2, hotkey: %s, address: 'b:2'}\n", hk[0], hk[0]),
			wantErr: fmt.Sprintf("v.yaml:2: validators[1].hotkey: %s is also validators[0]", hk[0])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadValidators(path, tc.minStake, slog.New(slog.DiscardHandler))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("loaded %+v, want an error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("validators (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := LoadValidators(filepath.Join(t.TempDir(), "none.yaml"), 0, slog.New(slog.DiscardHandler))
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "none.yaml") {
			t.Errorf("error %v, want fs.ErrNotExist naming none.yaml", err)
		}
	})
}

// FuzzLoadValidators checks that no file makes the parser panic and that
// what it accepts is a usable list: valid hotkeys, host:port addresses,
// no repeated hotkey.
func FuzzLoadValidators(f *testing.F) {
	hk := testHotkeys(f, 2)
	f.Add(fmt.Sprintf("- {uid: 1, hotkey: %s, address: '10.0.0.1:8092', stake: 2000}\n", hk[0]))
	f.Add(fmt.Sprintf(`{"validators": [{"uid": 2, "hotkey": %q, "address": "[::1]:1"}]}`, hk[1]))
	f.Add(fmt.Sprintf("- {uid: 1, hotkey: %s, address: 'a:1'}\n- {uid: 1, hotkey: %s, address: 'a:1'}\n", hk[0], hk[0]))
	f.Add("- uid: 1\n  hotkey: [\n")
	f.Add("validators: 3\n")
	f.Add("")
	f.Add("- &a {uid: 1}\n- *a\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "v.yaml")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		vals, err := LoadValidators(path, 1000, slog.New(slog.DiscardHandler))
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if len(vals) == 0 {
			t.Fatal("no error and no validators")
		}
		seen := map[string]bool{}
		for i, v := range vals {
			if _, err := bittensor.SS58DecodePublic(v.Hotkey); err != nil {
				t.Errorf("validators[%d]: accepted hotkey %q: %v", i, v.Hotkey, err)
			}
			if host, _, err := net.SplitHostPort(v.Address); err != nil || host == "" {
				t.Errorf("validators[%d]: accepted address %q", i, v.Address)
			}
			if v.UID < 0 || seen[v.Hotkey] {
				t.Errorf("validators[%d]: uid %d, hotkey %s repeated: %v", i, v.UID, v.Hotkey, seen[v.Hotkey])
			}
			seen[v.Hotkey] = true
		}
	})
}

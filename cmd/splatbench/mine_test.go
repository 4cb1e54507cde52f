package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/miner"
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

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestLoadValidators(t *testing.T) {
	t.Parallel()
	hk := testHotkeys(t, 3)
	tests := []struct {
		name     string
		file     string // file name: its extension does not matter
		content  string
		minStake float64
		want     []miner.Validator
		wantErr  string // substring; "" for success
	}{
		{name: "yaml list", file: "v.yaml", content: fmt.Sprintf(
			"- uid: 1\n  hotkey: %s\n  address: 10.0.0.1:8092\n  stake: 5000\n- uid: 2\n  hotkey: %s\n  address: \"[::1]:8093\"\n", hk[0], hk[1]),
			minStake: 1000,
			want:     []miner.Validator{{UID: 1, Hotkey: hk[0], Address: "10.0.0.1:8092"}, {UID: 2, Hotkey: hk[1], Address: "[::1]:8093"}}},
		{name: "json list", file: "v.json", content: fmt.Sprintf(`[{"uid": 7, "hotkey": %q, "address": "host.example:8092", "stake": 1000}]`, hk[2]),
			minStake: 1000, want: []miner.Validator{{UID: 7, Hotkey: hk[2], Address: "host.example:8092"}}},
		{name: "validators key", file: "v.yaml", content: fmt.Sprintf("validators:\n  - uid: 3\n    hotkey: %s\n    address: 1.2.3.4:1\n", hk[0]),
			want: []miner.Validator{{UID: 3, Hotkey: hk[0], Address: "1.2.3.4:1"}}},
		{name: "low stake skipped", file: "v.yaml", content: fmt.Sprintf(
			"- {uid: 1, hotkey: %s, address: 'a:1', stake: 999}\n- {uid: 2, hotkey: %s, address: 'b:2', stake: 1000}\n", hk[0], hk[1]),
			minStake: 1000, want: []miner.Validator{{UID: 2, Hotkey: hk[1], Address: "b:2"}}},
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
			path := writeFile(t, tc.file, tc.content)
			got, err := loadValidators(path, tc.minStake, discardLog())
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("loaded %+v, want an error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if !errors.Is(err, errUsage) {
					t.Errorf("error %q is not a usage error (exit 2)", err)
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
		_, err := loadValidators(filepath.Join(t.TempDir(), "none.yaml"), 0, discardLog())
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "none.yaml") {
			t.Errorf("error %v, want a usage error naming none.yaml", err)
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
		vals, err := loadValidators(path, 1000, discardLog())
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Errorf("error %q is not a usage error", err)
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

func TestMinerHotkey(t *testing.T) {
	t.Parallel()
	seed := bytes32(7)
	fromSeed, err := bittensor.KeypairFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := bittensor.KeypairFromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	// A wallet in the Bittensor layout: <dir>/<wallet>/hotkeys/<hotkey>,
	// an unencrypted JSON keyfile.
	wallets := t.TempDir()
	seedHex := "0x" + hex.EncodeToString(seed[:])
	ss58 := fromSeed.SS58()
	kf, err := json.Marshal(bittensor.Keyfile{SecretSeed: &seedHex, SS58Address: &ss58})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(wallets, "miner", "hotkeys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wallets, "miner", "hotkeys", "default"), kf, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       mineOptions
		want    string // SS58 of the loaded key
		wantErr []string
	}{
		{name: "seed hex", o: mineOptions{hotkeySeed: hex.EncodeToString(seed[:])}, want: ss58},
		{name: "seed hex 0x", o: mineOptions{hotkeySeed: seedHex}, want: ss58},
		{name: "uri", o: mineOptions{hotkeySeed: "//Alice"}, want: alice.SS58()},
		{name: "short seed", o: mineOptions{hotkeySeed: "abcd"}, wantErr: []string{"--hotkey-seed", "2 bytes, want 32"}},
		{name: "not hex", o: mineOptions{hotkeySeed: "zz"}, wantErr: []string{"--hotkey-seed"}},
		{name: "wallet", o: mineOptions{walletPath: wallets, walletName: "miner", hotkey: "default"}, want: ss58},
		{name: "missing wallet", o: mineOptions{walletPath: wallets, walletName: "nobody", hotkey: "default"},
			wantErr: []string{filepath.Join(wallets, "nobody", "hotkeys", "default"), "--hotkey-seed"}},
		{name: "missing hotkey", o: mineOptions{walletPath: wallets, walletName: "miner", hotkey: "other"},
			wantErr: []string{filepath.Join(wallets, "miner", "hotkeys", "other")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := tc.o.minerHotkey()
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("loaded %s, want an error", k.SS58())
				}
				if !errors.Is(err, errUsage) {
					t.Errorf("error %q is not a usage error", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.SS58() != tc.want {
				t.Errorf("hotkey %s, want %s", k.SS58(), tc.want)
			}
		})
	}
}

func bytes32(b byte) (s [32]byte) {
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

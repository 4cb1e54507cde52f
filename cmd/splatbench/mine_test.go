package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/miner/bittensor"
)

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

// TestRandomWeightsRefused: mine and the competition pod (serve --api
// pod) refuse a profile whose models are marked as having random weights
// (the tiny CLIP towers) unless --allow-random-weights says so; the
// refusal names the models.
func TestRandomWeightsRefused(t *testing.T) {
	dir := tinyCLIPDir(t)
	profile := writeFile(t, "clip.yaml", "name: clip-tiny\nmatte: {enabled: false}\nscore: {clip_model: "+dir+"}\n")
	validators := writeFile(t, "remote.yaml", "- {uid: 7, hotkey: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY, address: \"203.0.113.9:8091\"}\n")
	// A bad seed fails right after the check: how far each run got.
	mine := []string{"mine", "--validators", validators, "--allow-empty-text", "--profile", profile, "--hotkey-seed", "zz", "--out", t.TempDir()}
	refused := []string{"random weights (", filepath.Join(dir, "vision_model.onnx"), "--allow-random-weights"}
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant string
	}{
		{"mine refused", mine, append(refused, "under your hotkey"), ""},
		{"mine allowed", append(mine, "--allow-random-weights"), []string{"--hotkey-seed"}, "random weights ("},
		{"pod refused", []string{"serve", "--api", "pod", "--profile", profile, "--listen", "127.0.0.1:0"}, append(refused, "competition pod"), ""},
		// --workers 0 fails right after the check.
		{"serve refused", []string{"serve", "--profile", profile, "--listen", "127.0.0.1:0", "--workers", "0"}, append(refused, "generation service"), ""},
		{"serve allowed", []string{"serve", "--profile", profile, "--listen", "127.0.0.1:0", "--workers", "0", "--allow-random-weights"}, []string{"--workers"}, "random weights ("},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.notWant != "" && strings.Contains(stderr, tc.notWant) {
				t.Errorf("stderr has %q:\n%s", tc.notWant, stderr)
			}
		})
	}
}

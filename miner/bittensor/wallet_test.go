package bittensor

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const aliceKeyfile = `{"accountId": "0x` + alicePubHex + `", "publicKey": "0x` + alicePubHex + `",
 "privateKey": null, "secretPhrase": null, "secretSeed": "0x` + aliceSeedHex + `",
 "ss58Address": "` + aliceSS58 + `"}`

func TestLoadHotkey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := HotkeyPath(dir, "miner", "default")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(aliceKeyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	kp, err := LoadHotkey(dir, "miner", "default")
	if err != nil {
		t.Fatal(err)
	}
	if kp.SS58() != aliceSS58 {
		t.Errorf("loaded %s", kp.SS58())
	}
	if _, err := LoadHotkey(dir, "miner", "missing"); !errors.Is(err, ErrBadKeyfile) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing hotkey: %v", err)
	}
}

func TestParseKeyfile(t *testing.T) {
	t.Parallel()
	alice, _ := KeypairFromURI("//Alice")
	// The 64-byte privateKey form: the expanded scalar then the nonce, which
	// Ed25519-mode expansion takes from the second half of SHA-512(seed).
	key := alice.secret.Encode()
	h := sha512.Sum512(alice.Seed[:])
	privHex := "0x" + hex.EncodeToString(key[:]) + hex.EncodeToString(h[32:])
	tests := []struct {
		name    string
		json    string
		wantErr string // substring; empty means success
	}{
		{"seed", aliceKeyfile, ""},
		{"phrase", `{"secretPhrase": "` + DevPhrase + `"}`, ""},
		{"private key", `{"privateKey": "` + privHex + `", "ss58Address": "` + aliceSS58 + `"}`, ""},
		{"public only", `{"publicKey": "0x` + alicePubHex + `"}`, "none of secretSeed"},
		{"bad seed hex", `{"secretSeed": "0xzz"}`, "field secretSeed"},
		{"short seed", `{"secretSeed": "0x1234"}`, "field secretSeed"},
		{"bad private key", `{"privateKey": "0x00"}`, "field privateKey"},
		{"bad phrase", `{"secretPhrase": "foo bar"}`, "field secretPhrase"},
		{"wrong public", `{"secretSeed": "0x` + aliceSeedHex + `", "publicKey": "0x` + bobPubHex + `"}`, "field publicKey"},
		{"wrong address", `{"secretSeed": "0x` + aliceSeedHex + `", "ss58Address": "` + bobSS58 + `"}`, "field ss58Address"},
		{"encrypted", `$NACL...`, "encrypted"},
		{"garbage", `{"secretSeed": `, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kp, err := ParseKeyfile([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := aliceSS58
				if tt.name == "phrase" {
					want = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV" // the dev phrase root
				}
				if kp.SS58() != want {
					t.Errorf("got %s", kp.SS58())
				}
				return
			}
			if err == nil || !errors.Is(err, ErrBadKeyfile) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want ErrBadKeyfile containing %q", err, tt.wantErr)
			}
		})
	}
}

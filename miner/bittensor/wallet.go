package bittensor

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrBadKeyfile is wrapped by every wallet keyfile error.
var ErrBadKeyfile = errors.New("bad keyfile")

// maxKeyfileBytes bounds a keyfile read; real ones are under 1 KiB.
const maxKeyfileBytes = 64 << 10

// Keyfile is the JSON a Bittensor wallet stores for an unencrypted key
// (bittensor-wallet's serialized keypair). Fields are hex with a 0x prefix
// except the phrase and the address; any of them may be null.
type Keyfile struct {
	AccountID    *string `json:"accountId"`
	PublicKey    *string `json:"publicKey"`
	PrivateKey   *string `json:"privateKey"`
	SecretPhrase *string `json:"secretPhrase"`
	SecretSeed   *string `json:"secretSeed"`
	SS58Address  *string `json:"ss58Address"`
}

// HotkeyPath is where a Bittensor wallet keeps a hotkey:
// <walletsDir>/<wallet>/hotkeys/<hotkey> (walletsDir is usually
// ~/.bittensor/wallets).
func HotkeyPath(walletsDir, wallet, hotkey string) string {
	return filepath.Join(walletsDir, wallet, "hotkeys", hotkey)
}

// LoadHotkey loads the hotkey <walletsDir>/<wallet>/hotkeys/<hotkey>.
func LoadHotkey(walletsDir, wallet, hotkey string) (*Keypair, error) {
	if walletsDir == "" || wallet == "" || hotkey == "" {
		return nil, fmt.Errorf("%w: wallets dir %q, wallet %q and hotkey %q must all be set", ErrBadKeyfile, walletsDir, wallet, hotkey)
	}
	return LoadKeyfile(HotkeyPath(walletsDir, wallet, hotkey))
}

// LoadKeyfile reads an unencrypted keyfile and returns its key pair.
func LoadKeyfile(path string) (*Keypair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKeyfile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadKeyfile, path, err)
	}
	if len(data) > maxKeyfileBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadKeyfile, path, maxKeyfileBytes)
	}
	kp, err := ParseKeyfile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kp, nil
}

// ParseKeyfile parses keyfile JSON. The secret comes from secretSeed, else
// secretPhrase, else privateKey; publicKey, accountId and ss58Address, when
// present, must match the derived key.
func ParseKeyfile(data []byte) (*Keypair, error) {
	trimmed := bytes.TrimSpace(data)
	for _, p := range []string{"$NACL", "$ANSIBLE_VAULT", "gAAAAA"} {
		if bytes.HasPrefix(trimmed, []byte(p)) {
			return nil, fmt.Errorf("%w: encrypted (%s…); hotkeys must be unencrypted, or pass the seed explicitly", ErrBadKeyfile, p)
		}
	}
	var kf Keyfile
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("%w: JSON: %w", ErrBadKeyfile, err)
	}
	var kp *Keypair
	var err error
	switch {
	case nonEmpty(kf.SecretSeed):
		kp, err = KeypairFromSeedHex(*kf.SecretSeed)
		if err != nil {
			return nil, fmt.Errorf("%w: field secretSeed: %w", ErrBadKeyfile, err)
		}
	case nonEmpty(kf.SecretPhrase):
		kp, err = KeypairFromMnemonic(*kf.SecretPhrase, "")
		if err != nil {
			return nil, fmt.Errorf("%w: field secretPhrase: %w", ErrBadKeyfile, err)
		}
	case nonEmpty(kf.PrivateKey):
		b, herr := decodeHex(*kf.PrivateKey)
		if herr != nil {
			return nil, fmt.Errorf("%w: field privateKey: %w", ErrBadKeyfile, herr)
		}
		kp, err = KeypairFromSecretBytes(b)
		if err != nil {
			return nil, fmt.Errorf("%w: field privateKey: %w", ErrBadKeyfile, err)
		}
	default:
		return nil, fmt.Errorf("%w: none of secretSeed, secretPhrase, privateKey is set (a public-only keyfile cannot sign)", ErrBadKeyfile)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"publicKey", kf.PublicKey}, {"accountId", kf.AccountID}} {
		if !nonEmpty(f.v) {
			continue
		}
		b, err := decodeHex(*f.v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %s: %w", ErrBadKeyfile, f.name, err)
		}
		if !bytes.Equal(b, kp.Public[:]) {
			return nil, fmt.Errorf("%w: field %s is %s but the secret gives 0x%s", ErrBadKeyfile, f.name, *f.v, hex.EncodeToString(kp.Public[:]))
		}
	}
	if nonEmpty(kf.SS58Address) && *kf.SS58Address != kp.SS58() {
		return nil, fmt.Errorf("%w: field ss58Address is %s but the secret gives %s", ErrBadKeyfile, *kf.SS58Address, kp.SS58())
	}
	return kp, nil
}

func nonEmpty(s *string) bool { return s != nil && *s != "" }

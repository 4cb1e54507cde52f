package bittensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"golang.org/x/crypto/blake2b"
)

// DevPhrase is substrate's development mnemonic; a secret URI with no
// phrase (such as "//Alice") derives from it.
const DevPhrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"

// ErrBadURI is wrapped by every secret URI parsing error.
var ErrBadURI = errors.New("bad secret URI")

// KeypairFromMnemonic derives the key of a BIP39 mnemonic the substrate way:
// the entropy (not the BIP39 seed) goes through PBKDF2-SHA512 with salt
// "mnemonic"+password, and the first 32 bytes are the mini secret.
func KeypairFromMnemonic(phrase, password string) (*Keypair, error) {
	phrase = strings.Join(strings.Fields(phrase), " ")
	mini, err := schnorrkel.MiniSecretKeyFromMnemonic(phrase, password)
	if err != nil {
		return nil, fmt.Errorf("mnemonic: %w", err)
	}
	return KeypairFromSeed(mini.Encode())
}

// KeypairFromURI derives a key from a substrate secret URI:
//
//	[phrase | 0x<32-byte hex seed>][//hard...][///password]
//
// An empty phrase means DevPhrase, so "//Alice" is the Alice dev key. Hard
// junctions are supported; soft junctions ("/x") are refused because a
// derived soft key has no seed to store.
func KeypairFromURI(uri string) (*Keypair, error) {
	rest, password, hasPassword := strings.Cut(uri, "///")
	phrase := rest
	var path string
	if i := strings.Index(rest, "/"); i >= 0 {
		phrase, path = rest[:i], rest[i:]
	}
	phrase = strings.TrimSpace(phrase)
	var seed [SeedSize]byte
	switch {
	case phrase == "":
		kp, err := KeypairFromMnemonic(DevPhrase, password)
		if err != nil {
			return nil, err
		}
		seed = kp.Seed
	case strings.HasPrefix(phrase, "0x"):
		if hasPassword {
			return nil, fmt.Errorf("%w: a password applies to a mnemonic, not to a hex seed", ErrBadURI)
		}
		kp, err := KeypairFromSeedHex(phrase)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		seed = kp.Seed
	default:
		kp, err := KeypairFromMnemonic(phrase, password)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		seed = kp.Seed
	}
	for path != "" {
		if !strings.HasPrefix(path, "//") {
			return nil, fmt.Errorf("%w: soft junction in %q is not supported", ErrBadURI, path)
		}
		path = path[2:]
		junction := path
		if i := strings.Index(path, "/"); i >= 0 {
			junction, path = path[:i], path[i:]
		} else {
			path = ""
		}
		if junction == "" {
			return nil, fmt.Errorf("%w: empty junction", ErrBadURI)
		}
		var err error
		seed, err = hardDerive(seed, junction)
		if err != nil {
			return nil, err
		}
	}
	return KeypairFromSeed(seed)
}

// hardDerive applies one hard junction to a mini secret: the secret is
// expanded (Ed25519 mode) and schnorrkel's HDKD hard derivation with the
// junction's chain code and empty sign-bytes gives the child mini secret.
func hardDerive(seed [SeedSize]byte, junction string) ([SeedSize]byte, error) {
	mini, err := schnorrkel.NewMiniSecretKeyFromRaw(seed)
	if err != nil {
		return seed, fmt.Errorf("derive //%s: %w", junction, err)
	}
	child, _, err := mini.ExpandEd25519().HardDeriveMiniSecretKey(nil, JunctionChainCode(junction))
	if err != nil {
		return seed, fmt.Errorf("derive //%s: %w", junction, err)
	}
	return child.Encode(), nil
}

// JunctionChainCode is the 32-byte chain code of a derivation junction: a
// decimal number is SCALE-encoded as u64, anything else as a SCALE string
// (compact length then UTF-8 bytes); encodings longer than 32 bytes are
// replaced by their blake2b-256 hash, shorter ones are zero-padded.
func JunctionChainCode(junction string) [32]byte {
	var enc []byte
	if n, err := strconv.ParseUint(junction, 10, 64); err == nil {
		enc = binary.LittleEndian.AppendUint64(nil, n)
	} else {
		enc = append(compactLen(len(junction)), junction...)
	}
	if len(enc) > 32 {
		return blake2b.Sum256(enc)
	}
	var cc [32]byte
	copy(cc[:], enc)
	return cc
}

// compactLen is SCALE's compact encoding of a length.
func compactLen(n int) []byte {
	switch {
	case n < 1<<6:
		return []byte{byte(n << 2)}
	case n < 1<<14:
		return binary.LittleEndian.AppendUint16(nil, uint16(n<<2|1))
	default:
		return binary.LittleEndian.AppendUint32(nil, uint32(n<<2|2))
	}
}

package bittensor

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

// signingContext is the sr25519 signing context substrate and Bittensor use.
var signingContext = []byte("substrate")

// Sizes of sr25519 keys and signatures in bytes.
const (
	PublicKeySize = 32
	SeedSize      = 32
	SignatureSize = 64
)

// ErrBadSignature is wrapped by every signature verification failure.
var ErrBadSignature = errors.New("bad signature")

// Keypair is an sr25519 key pair. The zero value is not usable: build one
// with KeypairFromSeed, KeypairFromURI, KeypairFromMnemonic or LoadHotkey.
type Keypair struct {
	// Public is the 32-byte sr25519 public key (the account id).
	Public [PublicKeySize]byte
	// Seed is the 32-byte mini secret the key was expanded from, when known
	// (keys loaded from a 64-byte privateKey only have no seed).
	Seed    [SeedSize]byte
	HasSeed bool

	secret *schnorrkel.SecretKey
}

// KeypairFromSeed expands a 32-byte mini secret ("secret seed") the way
// substrate does (Ed25519 expansion mode).
func KeypairFromSeed(seed [SeedSize]byte) (*Keypair, error) {
	mini, err := schnorrkel.NewMiniSecretKeyFromRaw(seed)
	if err != nil {
		return nil, fmt.Errorf("sr25519 seed: %w", err)
	}
	kp, err := keypairFromSecret(mini.ExpandEd25519())
	if err != nil {
		return nil, err
	}
	kp.Seed, kp.HasSeed = seed, true
	return kp, nil
}

// KeypairFromSeedHex parses a 32-byte seed as hex, with or without 0x.
func KeypairFromSeedHex(s string) (*Keypair, error) {
	b, err := decodeHex(s)
	if err != nil {
		return nil, fmt.Errorf("seed hex: %w", err)
	}
	if len(b) != SeedSize {
		return nil, fmt.Errorf("seed hex: %d bytes, want %d", len(b), SeedSize)
	}
	return KeypairFromSeed([SeedSize]byte(b))
}

// KeypairFromSecretBytes builds a key pair from a 64-byte schnorrkel secret
// key (32-byte scalar then 32-byte nonce), the privateKey field of a wallet
// file.
func KeypairFromSecretBytes(b []byte) (*Keypair, error) {
	if len(b) != 64 {
		return nil, fmt.Errorf("sr25519 secret key: %d bytes, want 64", len(b))
	}
	var key, nonce [32]byte
	copy(key[:], b[:32])
	copy(nonce[:], b[32:])
	return keypairFromSecret(schnorrkel.NewSecretKey(key, nonce))
}

func keypairFromSecret(sk *schnorrkel.SecretKey) (*Keypair, error) {
	pub, err := sk.Public()
	if err != nil {
		return nil, fmt.Errorf("sr25519 public key: %w", err)
	}
	return &Keypair{Public: pub.Encode(), secret: sk}, nil
}

// SS58 is the key's SS58 address with the generic substrate prefix 42.
func (k *Keypair) SS58() string { return SS58Encode(k.Public, SS58PrefixSubstrate) }

// String names the key by its address only; it never prints secrets.
func (k *Keypair) String() string { return k.SS58() }

// Sign signs msg with the "substrate" context. sr25519 signatures are
// randomised: two signatures of one message differ, both verify.
func (k *Keypair) Sign(msg []byte) ([SignatureSize]byte, error) {
	if k == nil || k.secret == nil {
		return [SignatureSize]byte{}, errors.New("sign: key pair has no secret key")
	}
	sig, err := k.secret.Sign(schnorrkel.NewSigningContext(signingContext, msg))
	if err != nil {
		return [SignatureSize]byte{}, fmt.Errorf("sign: %w", err)
	}
	return sig.Encode(), nil
}

// Verify checks an sr25519 signature of msg by pub. Like bittensor-wallet
// 4.0.0's Keypair.verify, it also accepts a signature over
// "<Bytes>"+msg+"</Bytes>" (the form browser extensions produce).
func Verify(pub [PublicKeySize]byte, msg []byte, sig [SignatureSize]byte) error {
	if VerifyStrict(pub, msg, sig) == nil {
		return nil
	}
	wrapped := make([]byte, 0, len(msg)+15)
	wrapped = append(append(append(wrapped, "<Bytes>"...), msg...), "</Bytes>"...)
	if VerifyStrict(pub, wrapped, sig) == nil {
		return nil
	}
	return fmt.Errorf("%w: sr25519 signature does not verify for %s", ErrBadSignature, SS58Encode(pub, SS58PrefixSubstrate))
}

// VerifyStrict checks an sr25519 signature of exactly msg by pub.
func VerifyStrict(pub [PublicKeySize]byte, msg []byte, sig [SignatureSize]byte) error {
	pk, err := schnorrkel.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("%w: public key: %v", ErrBadSignature, err)
	}
	var s schnorrkel.Signature
	if err := s.Decode(sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	ok, err := pk.Verify(&s, schnorrkel.NewSigningContext(signingContext, msg))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !ok {
		return fmt.Errorf("%w: sr25519 signature does not verify", ErrBadSignature)
	}
	return nil
}

// SignHex signs msg and returns "0x" + lowercase hex, the form of transport
// signatures (docs/protocol.md §2.4).
func (k *Keypair) SignHex(msg []byte) (string, error) {
	sig, err := k.Sign(msg)
	if err != nil {
		return "", err
	}
	return "0x" + hex.EncodeToString(sig[:]), nil
}

// VerifyHex verifies a "0x…" hex signature of msg by the SS58 address ss58.
func VerifyHex(ss58 string, msg []byte, sigHex string) error {
	pub, err := SS58DecodePublic(ss58)
	if err != nil {
		return fmt.Errorf("%w: signer: %w", ErrBadSignature, err)
	}
	b, err := decodeHex(sigHex)
	if err != nil {
		return fmt.Errorf("%w: signature hex: %v", ErrBadSignature, err)
	}
	if len(b) != SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrBadSignature, len(b), SignatureSize)
	}
	return Verify(pub, msg, [SignatureSize]byte(b))
}

// PublicEqual reports whether two public keys are equal in constant time.
func PublicEqual(a, b [PublicKeySize]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return hex.DecodeString(s)
}

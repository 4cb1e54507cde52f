package bittensor

import (
	"encoding/hex"
	"errors"
	"testing"
)

// Public vectors: substrate's well-known dev accounts (subkey inspect
// //Alice, //Bob) and Alice's address under other prefixes, as published in
// many public repositories and the substrate docs.
const (
	aliceSeedHex = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"
	alicePubHex  = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
	aliceSS58    = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	bobPubHex    = "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"
	bobSS58      = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
)

func mustHex32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test hex %q", s)
	}
	return [32]byte(b)
}

func TestKeypairFromURIDevKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri, pubHex, ss58, seedHex string
	}{
		{"//Alice", alicePubHex, aliceSS58, aliceSeedHex},
		{"//Bob", bobPubHex, bobSS58, ""},
		{DevPhrase + "//Alice", alicePubHex, aliceSS58, aliceSeedHex},
		{"0x" + aliceSeedHex, alicePubHex, aliceSS58, aliceSeedHex},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Parallel()
			kp, err := KeypairFromURI(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(kp.Public[:]); got != tt.pubHex {
				t.Errorf("public = %s, want %s", got, tt.pubHex)
			}
			if got := kp.SS58(); got != tt.ss58 {
				t.Errorf("ss58 = %s, want %s", got, tt.ss58)
			}
			if tt.seedHex != "" && hex.EncodeToString(kp.Seed[:]) != tt.seedHex {
				t.Errorf("seed = %x, want %s", kp.Seed, tt.seedHex)
			}
		})
	}
}

func TestKeypairFromURIErrors(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"//Alice/soft",
		"0x1234",
		"0x" + aliceSeedHex + "///pw",
		"not a valid mnemonic at all",
		"//Alice//",
	} {
		if _, err := KeypairFromURI(uri); err == nil {
			t.Errorf("KeypairFromURI(%q) succeeded, want error", uri)
		}
	}
}

func TestJunctionChainCode(t *testing.T) {
	t.Parallel()
	cc := JunctionChainCode("Alice")
	want := append([]byte{5 << 2}, "Alice"...)
	if string(cc[:len(want)]) != string(want) {
		t.Errorf("chain code of Alice = %x", cc)
	}
	n := JunctionChainCode("1")
	if n[0] != 1 || n[1] != 0 {
		t.Errorf("chain code of 1 = %x", n)
	}
	long := JunctionChainCode("a-junction-name-longer-than-thirty-two-bytes")
	if long == ([32]byte{}) {
		t.Error("hashed chain code is zero")
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	alice, err := KeypairFromSeed(mustHex32(t, aliceSeedHex))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := KeypairFromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("1700000000000000000.5Grw.5FHn.uuid.a7ff")
	sig, err := alice.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	sig2, _ := alice.Sign(msg)
	if sig == sig2 {
		t.Error("two sr25519 signatures are identical; signing must be randomised")
	}
	tests := []struct {
		name string
		pub  [32]byte
		msg  []byte
		sig  [64]byte
		ok   bool
	}{
		{"good", alice.Public, msg, sig, true},
		{"second signature", alice.Public, msg, sig2, true},
		{"wrong key", bob.Public, msg, sig, false},
		{"wrong message", alice.Public, append([]byte{}, "x"...), sig, false},
		{"flipped bit", alice.Public, msg, flip(sig, 10), false},
		{"non-canonical s", alice.Public, msg, flip(sig, 63), false},
	}
	for _, tt := range tests {
		err := Verify(tt.pub, tt.msg, tt.sig)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: error %v does not wrap ErrBadSignature", tt.name, err)
		}
	}
}

func TestVerifyBytesWrapped(t *testing.T) {
	t.Parallel()
	kp, _ := KeypairFromURI("//Alice")
	sig, _ := kp.Sign([]byte("<Bytes>hello</Bytes>"))
	if err := Verify(kp.Public, []byte("hello"), sig); err != nil {
		t.Errorf("wrapped signature rejected: %v", err)
	}
	if err := VerifyStrict(kp.Public, []byte("hello"), sig); err == nil {
		t.Error("VerifyStrict accepted a wrapped signature")
	}
}

func TestSignHexVerifyHex(t *testing.T) {
	t.Parallel()
	kp, _ := KeypairFromURI("//Alice")
	s, err := kp.SignHex([]byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2+128 || s[:2] != "0x" {
		t.Fatalf("SignHex = %q", s)
	}
	if err := VerifyHex(aliceSS58, []byte("m"), s); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "0x", "0xzz", s[:len(s)-2]} {
		if err := VerifyHex(aliceSS58, []byte("m"), bad); err == nil {
			t.Errorf("VerifyHex(%q) succeeded", bad)
		}
	}
	if err := VerifyHex("nope", []byte("m"), s); err == nil {
		t.Error("VerifyHex with a bad address succeeded")
	}
}

func flip(sig [64]byte, i int) [64]byte {
	sig[i] ^= 0x40
	return sig
}

func TestMnemonicRoot(t *testing.T) {
	t.Parallel()
	// The dev phrase itself is the well-known root account
	// 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV.
	kp, err := KeypairFromMnemonic(DevPhrase, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := kp.SS58(); got != "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV" {
		t.Errorf("dev phrase address = %s", got)
	}
}

package bittensor

import (
	"errors"
	"testing"
)

func TestSS58Vectors(t *testing.T) {
	t.Parallel()
	alice := mustHex32(t, alicePubHex)
	tests := []struct {
		pub    [32]byte
		prefix uint16
		addr   string
	}{
		{alice, 42, aliceSS58},
		{alice, 0, "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"},
		{alice, 2, "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F"},
		{mustHex32(t, bobPubHex), 42, bobSS58},
	}
	for _, tt := range tests {
		if got := SS58Encode(tt.pub, tt.prefix); got != tt.addr {
			t.Errorf("SS58Encode(%x, %d) = %s, want %s", tt.pub, tt.prefix, got, tt.addr)
		}
		pub, prefix, err := SS58Decode(tt.addr)
		if err != nil || pub != tt.pub || prefix != tt.prefix {
			t.Errorf("SS58Decode(%s) = %x, %d, %v", tt.addr, pub, prefix, err)
		}
	}
}

func TestSS58TwoBytePrefixRoundTrip(t *testing.T) {
	t.Parallel()
	pub := mustHex32(t, alicePubHex)
	for _, p := range []uint16{64, 255, 1000, 16383} {
		addr := SS58Encode(pub, p)
		got, prefix, err := SS58Decode(addr)
		if err != nil || got != pub || prefix != p {
			t.Errorf("prefix %d: %s decodes to %x, %d, %v", p, addr, got, prefix, err)
		}
	}
}

func TestSS58DecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []string{
		"",
		"0OIl",                                // not base58
		aliceSS58[:len(aliceSS58)-1],          // truncated
		aliceSS58[:10] + "z" + aliceSS58[11:], // checksum
		"15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5x",
	}
	for _, addr := range tests {
		if _, _, err := SS58Decode(addr); !errors.Is(err, ErrBadAddress) {
			t.Errorf("SS58Decode(%q) = %v, want ErrBadAddress", addr, err)
		}
	}
	if _, err := SS58DecodePublic("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"); !errors.Is(err, ErrBadAddress) {
		t.Errorf("prefix 0 accepted as a Bittensor address: %v", err)
	}
}

func FuzzSS58Decode(f *testing.F) {
	f.Add(aliceSS58)
	f.Add(bobSS58)
	f.Add("HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F")
	f.Add("1111")
	f.Fuzz(func(t *testing.T, s string) {
		pub, prefix, err := SS58Decode(s)
		if err != nil {
			return
		}
		if prefix >= 16384 {
			t.Fatalf("prefix %d out of range", prefix)
		}
		// A decodable address re-encodes to a decodable address of the same key.
		back, p2, err := SS58Decode(SS58Encode(pub, prefix))
		if err != nil || back != pub || p2 != prefix {
			t.Fatalf("re-encode of %q: %x %d %v", s, back, p2, err)
		}
	})
}

func TestBase58RoundTrip(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{{}, {0}, {0, 0, 1}, {255, 254}, []byte("hello world")} {
		got, err := base58Decode(base58Encode(b))
		if err != nil || string(got) != string(b) {
			t.Errorf("round trip %x -> %q -> %x, %v", b, base58Encode(b), got, err)
		}
	}
	if base58Encode([]byte("hello world")) != "StV1DL6CwTryKyV" {
		t.Errorf("base58(hello world) = %s", base58Encode([]byte("hello world")))
	}
}

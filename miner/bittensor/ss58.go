package bittensor

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"
)

// SS58PrefixSubstrate is the generic substrate address prefix Bittensor uses.
const SS58PrefixSubstrate = 42

// ErrBadAddress is wrapped by every SS58 decoding error.
var ErrBadAddress = errors.New("bad SS58 address")

const ss58ChecksumLen = 2 // for 32-byte account ids

var ss58Pre = []byte("SS58PRE")

func ss58Checksum(data []byte) [2]byte {
	h, _ := blake2b.New512(nil)
	h.Write(ss58Pre)
	h.Write(data)
	sum := h.Sum(nil)
	return [2]byte{sum[0], sum[1]}
}

// SS58Encode encodes a 32-byte public key under an address prefix
// (0–16383; one prefix byte below 64, two above).
func SS58Encode(pub [PublicKeySize]byte, prefix uint16) string {
	var data []byte
	switch {
	case prefix < 64:
		data = append(data, byte(prefix))
	case prefix < 16384:
		data = append(data,
			byte((prefix&0xfc)>>2)|0x40,
			byte(prefix>>8)|byte((prefix&0x03)<<6))
	default:
		panic(fmt.Sprintf("SS58 prefix %d out of range", prefix))
	}
	data = append(data, pub[:]...)
	sum := ss58Checksum(data)
	return base58Encode(append(data, sum[:]...))
}

// SS58Decode decodes an SS58 address of a 32-byte public key and returns the
// key and its prefix.
func SS58Decode(addr string) ([PublicKeySize]byte, uint16, error) {
	var pub [PublicKeySize]byte
	raw, err := base58Decode(addr)
	if err != nil {
		return pub, 0, fmt.Errorf("%w %q: %w", ErrBadAddress, addr, err)
	}
	if len(raw) == 0 {
		return pub, 0, fmt.Errorf("%w %q: empty", ErrBadAddress, addr)
	}
	var prefix uint16
	var plen int
	switch b0 := raw[0]; {
	case b0 < 64:
		prefix, plen = uint16(b0), 1
	case b0 < 128:
		if len(raw) < 2 {
			return pub, 0, fmt.Errorf("%w %q: truncated two-byte prefix", ErrBadAddress, addr)
		}
		lower := (b0 << 2) | (raw[1] >> 6)
		upper := raw[1] & 0x3f
		prefix, plen = uint16(lower)|uint16(upper)<<8, 2
	default:
		return pub, 0, fmt.Errorf("%w %q: reserved prefix byte 0x%02x", ErrBadAddress, addr, b0)
	}
	if want := plen + PublicKeySize + ss58ChecksumLen; len(raw) != want {
		return pub, 0, fmt.Errorf("%w %q: %d bytes decoded, want %d for a 32-byte key", ErrBadAddress, addr, len(raw), want)
	}
	body := raw[:plen+PublicKeySize]
	sum := ss58Checksum(body)
	if sum[0] != raw[len(body)] || sum[1] != raw[len(body)+1] {
		return pub, 0, fmt.Errorf("%w %q: checksum mismatch", ErrBadAddress, addr)
	}
	copy(pub[:], body[plen:])
	return pub, prefix, nil
}

// SS58DecodePublic decodes an address and requires the substrate prefix 42,
// the only one Bittensor hotkeys use.
func SS58DecodePublic(addr string) ([PublicKeySize]byte, error) {
	pub, prefix, err := SS58Decode(addr)
	if err != nil {
		return pub, err
	}
	if prefix != SS58PrefixSubstrate {
		return pub, fmt.Errorf("%w %q: prefix %d, want %d", ErrBadAddress, addr, prefix, SS58PrefixSubstrate)
	}
	return pub, nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base58Alphabet) {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Encode is the Bitcoin base58 alphabet encoding (leading zero bytes
// become '1').
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// Digits in base 58, little endian; size bound log(256)/log(58) ≈ 1.366.
	digits := make([]byte, 0, len(b)*138/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := range zeros {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = base58Alphabet[d]
	}
	return string(out)
}

// maxBase58Len bounds the input of base58Decode; SS58 addresses are < 60.
const maxBase58Len = 128

func base58Decode(s string) ([]byte, error) {
	if len(s) > maxBase58Len {
		return nil, fmt.Errorf("%d characters, more than %d", len(s), maxBase58Len)
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	bytes := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		v := base58Index[s[i]]
		if v < 0 {
			return nil, fmt.Errorf("invalid base58 character %q at offset %d", s[i], i)
		}
		carry := int(v)
		for j := range bytes {
			carry += int(bytes[j]) * 58
			bytes[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytes = append(bytes, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytes))
	for i, c := range bytes {
		out[len(out)-1-i] = c
	}
	return out, nil
}

package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// charsmap is SentencePiece's precompiled normalisation map (the "Precompiled"
// normaliser's precompiled_charsmap): a little-endian uint32 byte length of a
// double-array trie, the trie's uint32 units, then a blob of NUL-terminated
// replacement strings. The trie maps UTF-8 byte strings to offsets in that blob.
type charsmap struct {
	units []uint32
	repl  []byte
}

func parseCharsmap(b64 string) (*charsmap, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errorf("precompiled_charsmap is not base64: %w", err)
	}
	if len(raw) < 4 {
		return nil, errorf("precompiled_charsmap: %d bytes, too short for its header", len(raw))
	}
	n := binary.LittleEndian.Uint32(raw)
	if n%4 != 0 || uint64(n) > uint64(len(raw)-4) || n == 0 {
		return nil, errorf("precompiled_charsmap: trie size %d does not fit the %d-byte blob", n, len(raw))
	}
	cm := &charsmap{units: make([]uint32, n/4), repl: raw[4+n:]}
	for i := range cm.units {
		cm.units[i] = binary.LittleEndian.Uint32(raw[4+4*i:])
	}
	return cm, nil
}

// Double-array unit layout (Darts-clone): bit 8 = has leaf, bits 0-7 (+ bit 31) =
// label, bits 10-30 = offset, shifted by 8 more when bit 9 is set; a leaf unit's low
// 31 bits are the value.
func dartsOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
func dartsLabel(u uint32) uint32  { return u & ((1 << 31) | 0xFF) }
func dartsHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func dartsValue(u uint32) uint32  { return u & ((1 << 31) - 1) }

// firstPrefix returns the value of the shortest key that is a prefix of key (the
// trie walk stops at a NUL byte, as SentencePiece's does).
func (cm *charsmap) firstPrefix(key string) (uint32, bool) {
	if len(cm.units) == 0 {
		return 0, false
	}
	pos := dartsOffset(cm.units[0])
	for i := 0; i < len(key); i++ {
		c := uint32(key[i])
		if c == 0 {
			return 0, false
		}
		pos ^= c
		if int(pos) >= len(cm.units) {
			return 0, false
		}
		u := cm.units[pos]
		if dartsLabel(u) != c {
			return 0, false
		}
		pos ^= dartsOffset(u)
		if int(pos) >= len(cm.units) {
			return 0, false
		}
		if dartsHasLeaf(u) {
			return dartsValue(cm.units[pos]), true
		}
	}
	return 0, false
}

// transform returns the replacement for chunk under the shortest matching rule (the
// match may cover only part of chunk; the whole chunk is still replaced, which is
// what Hugging Face's Precompiled normaliser does).
func (cm *charsmap) transform(chunk string) (string, bool) {
	v, ok := cm.firstPrefix(chunk)
	if !ok || int(v) > len(cm.repl) {
		return "", false
	}
	end := int(v)
	for end < len(cm.repl) && cm.repl[end] != 0 {
		end++
	}
	s := string(cm.repl[v:end])
	if !utf8.ValidString(s) {
		return "", false
	}
	return s, true
}

// normalize applies the map as Hugging Face's Precompiled normaliser does: per
// extended grapheme cluster, the whole cluster is looked up when it is shorter than 6
// bytes; otherwise (or without a rule) each character is looked up on its own.
func (cm *charsmap) normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	state := -1
	rest := s
	for len(rest) > 0 {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if r, ok := cm.transform(g); ok {
				b.WriteString(r)
				continue
			}
		}
		for i, c := range g {
			part := g[i : i+utf8.RuneLen(c)]
			if c == utf8.RuneError {
				_, sz := utf8.DecodeRuneInString(g[i:])
				part = g[i : i+sz]
			}
			if r, ok := cm.transform(part); ok {
				b.WriteString(r)
			} else {
				b.WriteString(part)
			}
		}
	}
	return b.String()
}

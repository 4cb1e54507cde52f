// Package imagefiletest makes hostile images for tests of the paths that
// decode images from outside.
package imagefiletest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// BombPNG is a 67-byte PNG whose header declares w×h 8-bit RGBA pixels and
// whose one IDAT chunk holds two bytes of zlib data: a decoder that trusts
// the header asks for w·h·4 bytes before it fails.
func BombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01"))
	chunk("IEND", nil)
	return b.Bytes()
}

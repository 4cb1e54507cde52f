package render

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imagefile"
)

// headerPNG is a PNG whose header declares w×h pixels, with two bytes of
// image data: a decompression bomb when w×h is large.
func headerPNG(w, h uint32) []byte {
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
	ihdr[8], ihdr[9] = 8, 6
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01"))
	chunk("IEND", nil)
	return b.Bytes()
}

func dataURL(b []byte) string { return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b) }

// TestDecodeCanvas: the canvas image comes from a page running an untrusted
// module; a PNG declaring 100000² pixels is refused from its header (before:
// png.Decode asked for 40 GB and the process died).
func TestDecodeCanvas(t *testing.T) {
	t.Parallel()
	var ok bytes.Buffer
	if err := png.Encode(&ok, image.NewNRGBA(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	var small bytes.Buffer
	if err := png.Encode(&small, image.NewNRGBA(image.Rect(0, 0, 8, 16))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		want error // nil: decodes
		ok   bool
	}{
		{"16² canvas", dataURL(ok.Bytes()), nil, true},
		{"bomb", dataURL(headerPNG(100000, 100000)), imagefile.ErrTooLarge, false},
		{"wrong size", dataURL(small.Bytes()), nil, false},
		{"not a data URL", "data:text/html,hi", nil, false},
	}
	for _, tc := range tests {
		_, im, err := decodeCanvas(tc.url, 16)
		if (err == nil) != tc.ok || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, %v; want ok %v, error %v", tc.name, im != nil, err, tc.ok, tc.want)
		}
	}
}

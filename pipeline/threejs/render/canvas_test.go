package render

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
)

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
		{"bomb", dataURL(imagefiletest.BombPNG(100000, 100000)), imagefile.ErrTooLarge, false},
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

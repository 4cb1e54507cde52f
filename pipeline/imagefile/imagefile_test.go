package imagefile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
)

func smallPNG(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error // nil: decodes
	}{
		{"small png", smallPNG(t, 8, 6), Limits{}, nil},
		{"bomb 100000x100000", imagefiletest.BombPNG(100000, 100000), Limits{}, ErrTooLarge},
		{"over pixel limit", smallPNG(t, 20, 20), Limits{MaxPixels: 399}, ErrTooLarge},
		{"at pixel limit", smallPNG(t, 20, 20), Limits{MaxPixels: 400}, nil},
		{"over byte limit", smallPNG(t, 20, 20), Limits{MaxBytes: 10}, ErrTooLarge},
		{"garbage", []byte("GIF89a not really"), Limits{}, ErrFormat},
		{"empty", nil, Limits{}, ErrFormat},
		{"truncated", smallPNG(t, 8, 6)[:40], Limits{}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(tt.data), "prompt.png", tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && img == nil {
				t.Fatal("nil image without an error")
			}
			if err != nil && !bytes.Contains([]byte(err.Error()), []byte("prompt.png")) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}

// FuzzDecode: no input panics or decodes past the pixel limit.
func FuzzDecode(f *testing.F) {
	f.Add(smallPNG(f, 4, 4))
	f.Add(imagefiletest.BombPNG(100000, 100000))
	f.Add(imagefiletest.BombPNG(64, 64))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxPixels: 1 << 16, MaxBytes: 1 << 20}
		img, _, err := DecodeBytes(data, "fuzz", lim)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > lim.MaxPixels || b.Empty() {
			t.Fatalf("decoded %v past the limit", b)
		}
	})
}

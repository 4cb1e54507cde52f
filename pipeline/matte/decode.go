package matte

import (
	"fmt"
	"image"
	_ "image/jpeg" // decoders for DecodeFile
	_ "image/png"
	"os"
)

// DecodeFile reads a PNG or JPEG image; errors name the file.
func DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: cannot decode (PNG or JPEG expected): %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return nil, fmt.Errorf("image %s: %s image is empty (%d×%d)", path, format, b.Dx(), b.Dy())
	}
	return img, nil
}

package splat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/splatbench/splatbench/results/atomicfile"
)

// Format names a splat file format.
type Format string

// The file formats ReadFile and WriteFile handle.
const (
	FormatPLY     Format = "ply"
	FormatSPZ     Format = "spz"      // the subnet's zstd fork
	FormatSPZGzip Format = "spz-gzip" // Niantic's legacy gzip container
)

// FileInfo describes what ReadFile found.
type FileInfo struct {
	Format Format
	PLY    *PLYInfo // set for PLY files
	SPZ    *SPZInfo // set for SPZ files
}

// ReadFile reads a PLY or SPZ file, telling them apart by content (a PLY
// starts with "ply\n"), not by extension. Errors name the file.
func ReadFile(path string) (*Cloud, FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, FileInfo{}, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(4)
	if bytes.HasPrefix(head, []byte("ply")) {
		c, info, err := ReadPLY(br)
		if err != nil {
			return nil, FileInfo{}, fmt.Errorf("%s: %w", path, err)
		}
		return c, FileInfo{Format: FormatPLY, PLY: info}, nil
	}
	c, info, err := ReadSPZ(br)
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	format := FormatSPZ
	if info.Container == SPZGzip {
		format = FormatSPZGzip
	}
	return c, FileInfo{Format: format, SPZ: info}, nil
}

// FormatFromPath picks a format from a file name's extension: .ply, or
// .spz (the subnet's zstd fork).
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ply":
		return FormatPLY, nil
	case ".spz":
		return FormatSPZ, nil
	}
	return "", fmt.Errorf("%s: unknown splat file extension (want .ply or .spz)", path)
}

// Encode writes c in format f to a byte slice.
func Encode(c *Cloud, f Format) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch f {
	case FormatPLY:
		err = WritePLY(&buf, c)
	case FormatSPZ:
		err = WriteSPZ(&buf, c, SPZOptions{Container: SPZZstd})
	case FormatSPZGzip:
		err = WriteSPZ(&buf, c, SPZOptions{Container: SPZGzip})
	default:
		err = fmt.Errorf("unknown splat format %q", f)
	}
	return buf.Bytes(), err
}

// WriteFile encodes c in format f and writes it atomically to path.
func WriteFile(path string, c *Cloud, f Format) error {
	data, err := Encode(c, f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

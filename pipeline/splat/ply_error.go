package splat

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel error classes for PLY and SPZ decoding. Every decode error wraps
// exactly one of them (test with errors.Is).
var (
	// ErrNotSplat: a well-formed PLY that is not a Gaussian splat (a mesh or a
	// plain point cloud without opacity/scale/rotation/colour properties).
	ErrNotSplat = errors.New("not a Gaussian splat")
	// ErrTruncated: the data ends before the header says it should.
	ErrTruncated = errors.New("truncated")
	// ErrFormat: the bytes break the PLY or SPZ format, or a limit.
	ErrFormat = errors.New("malformed")
	// ErrPackedPLY: a compressed/packed PLY variant (SuperSplat "chunk"
	// element with packed_* vertex properties). It also matches ErrFormat.
	ErrPackedPLY = fmt.Errorf("%w: compressed (packed) PLY variant is not supported", ErrFormat)
)

// PLYError locates a PLY decoding failure. Line is the 1-based header line
// (or ASCII body line) when known, Offset the byte offset from the start of
// the file (-1 when unknown). Err wraps one of ErrNotSplat, ErrTruncated,
// ErrFormat, ErrPackedPLY or ErrInvalidCloud, or an I/O error.
type PLYError struct {
	Path     string
	Line     int
	Offset   int64
	Element  string
	Property string
	Err      error
}

func (e *PLYError) Error() string {
	var b strings.Builder
	b.WriteString("ply")
	if e.Path != "" {
		b.WriteString(" ")
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ": byte %d", e.Offset)
	}
	if e.Element != "" {
		fmt.Fprintf(&b, ": element %q", e.Element)
	}
	if e.Property != "" {
		fmt.Fprintf(&b, ": property %q", e.Property)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *PLYError) Unwrap() error { return e.Err }

// PLYInfo describes what ReadPLY found besides the Gaussians themselves.
type PLYInfo struct {
	Format     string   // "ascii", "binary_little_endian" or "binary_big_endian"
	Vertices   int      // number of Gaussians read
	SHDegree   int      // inferred from the count of f_rest_* properties
	HasNormals bool     // nx, ny, nz were present (they are discarded)
	Properties []string // vertex property names in file order
	Ignored    []string // vertex properties that are not part of a splat, in file order
	Elements   []string // every element name in file order, e.g. ["vertex", "face"]
	Comments   []string // comment and obj_info lines, without the keyword
}

// Note returns a one-line, human-readable remark about ignored properties and
// skipped elements, or "" when there is nothing worth logging.
func (in *PLYInfo) Note() string {
	var parts []string
	if len(in.Ignored) > 0 {
		parts = append(parts, fmt.Sprintf("ignored vertex properties: %s", strings.Join(in.Ignored, ", ")))
	}
	var other []string
	for _, e := range in.Elements {
		if e != "vertex" {
			other = append(other, e)
		}
	}
	if len(other) > 0 {
		parts = append(parts, fmt.Sprintf("skipped elements: %s", strings.Join(other, ", ")))
	}
	return strings.Join(parts, "; ")
}

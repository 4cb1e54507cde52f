package splat

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

const spzMagic = 0x5053474e // "NGSP" little-endian

// Point limits when reading: the fork's decoder rejects more than 10 M; the
// Niantic containers are held to the PLY reader's cap.
const (
	spzMaxPointsFork  = GateMaxDecodePoints
	spzMaxPointsOther = MaxPLYVertices
	spzMaxZstdWindow  = 128 << 20
)

// SPZError locates an SPZ decoding failure: Field is the header field or
// attribute block at fault, Offset its byte offset, counted in the
// decompressed payload when InPayload is set and in the file otherwise.
// Err wraps ErrFormat or ErrTruncated (or a decompression error).
type SPZError struct {
	Field     string
	Offset    int64
	InPayload bool
	Err       error
}

func (e *SPZError) Error() string {
	where := "file"
	if e.InPayload {
		where = "payload"
	}
	return fmt.Sprintf("spz: %s: %s byte %d: %v", e.Field, where, e.Offset, e.Err)
}

func (e *SPZError) Unwrap() error { return e.Err }

// SPZInfo describes an SPZ file ReadSPZ decoded.
type SPZInfo struct {
	Container      SPZContainer
	Version        int
	NumPoints      int
	SHDegree       int
	FractionalBits int
	Antialiased    bool
	Flags          byte
	PayloadBytes   int64 // decompressed attribute bytes plus the 16-byte header (legacy, fork)
}

// ReadSPZ decodes an SPZ file in any of the three containers (legacy gzip,
// the subnet's zstd fork, Niantic NGSP v4), told apart by their first bytes.
// Declared counts are bounded before allocation and the payload must have
// exactly the size the header implies. Opacities of 0 and 255 decode to
// finite logits (see Logit). Errors are *SPZError.
func ReadSPZ(r io.Reader) (*Cloud, *SPZInfo, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, nil, &SPZError{Field: "magic", Err: fmt.Errorf("%w: %d bytes, not an SPZ file", ErrTruncated, len(magic))}
	}
	switch {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, &SPZError{Field: "gzip header", Err: fmt.Errorf("%w: %w", ErrFormat, err)}
		}
		return readSPZStream(zr, SPZGzip)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(spzMaxZstdWindow),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, &SPZError{Field: "zstd frame", Err: fmt.Errorf("%w: %w", ErrFormat, err)}
		}
		defer zr.Close()
		return readSPZStream(zr, SPZZstd)
	case binary.LittleEndian.Uint32(magic) == spzMagic:
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, nil, &SPZError{Field: "file", Err: err}
		}
		return readNGSP(data)
	}
	return nil, nil, &SPZError{Field: "magic", Err: fmt.Errorf("%w: first bytes % x are neither gzip, zstd nor NGSP", ErrFormat, magic)}
}

// spzLayout is the byte size of each attribute block for a header.
type spzLayout struct {
	n, deg, fb, version int
	posBytes, rotBytes  int
	sizes               [6]int
}

var spzBlockNames = [6]string{"positions", "alphas", "colors", "scales", "rotations", "sh"}

func newSPZLayout(n, deg, fb, version int) spzLayout {
	l := spzLayout{n: n, deg: deg, fb: fb, version: version, posBytes: 9, rotBytes: 3}
	if version == 1 {
		l.posBytes = 6
	}
	if version >= 3 {
		l.rotBytes = 4
	}
	dim := SHCoeffs(deg) - 1
	l.sizes = [6]int{l.posBytes * n, n, 3 * n, 3 * n, l.rotBytes * n, 3 * dim * n}
	return l
}

func (l spzLayout) total() int64 {
	var t int64
	for _, s := range l.sizes {
		t += int64(s)
	}
	return t
}

// checkSPZHeader validates the fields shared by both header kinds.
func checkSPZHeader(h []byte, minV, maxV, maxPoints int, inPayload bool) (spzLayout, error) {
	bad := func(field string, off int64, format string, a ...any) error {
		return &SPZError{Field: field, Offset: off, InPayload: inPayload, Err: fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)}
	}
	if m := binary.LittleEndian.Uint32(h); m != spzMagic {
		return spzLayout{}, bad("magic", 0, "0x%08x, want 0x%08x (NGSP)", m, spzMagic)
	}
	v := binary.LittleEndian.Uint32(h[4:])
	if v < uint32(minV) || v > uint32(maxV) {
		return spzLayout{}, bad("version", 4, "%d outside %d..%d for this container", v, minV, maxV)
	}
	n := binary.LittleEndian.Uint32(h[8:])
	if n > uint32(maxPoints) {
		return spzLayout{}, bad("numPoints", 8, "%d exceeds the limit %d", n, maxPoints)
	}
	if h[12] > MaxSHDegree {
		return spzLayout{}, bad("shDegree", 12, "%d outside 0..%d", h[12], MaxSHDegree)
	}
	if h[13] > 23 {
		return spzLayout{}, bad("fractionalBits", 13, "%d outside 0..23", h[13])
	}
	return newSPZLayout(int(n), int(h[12]), int(h[13]), int(v)), nil
}

func readSPZStream(zr io.Reader, container SPZContainer) (*Cloud, *SPZInfo, error) {
	h := make([]byte, 16)
	if _, err := io.ReadFull(zr, h); err != nil {
		return nil, nil, &SPZError{Field: "header", InPayload: true, Err: streamErr(err)}
	}
	minV, maxV, maxP := 1, 3, spzMaxPointsOther
	if container == SPZZstd {
		maxV, maxP = 2, spzMaxPointsFork
	}
	l, err := checkSPZHeader(h, minV, maxV, maxP, true)
	if err != nil {
		return nil, nil, err
	}
	if h[14]&2 != 0 {
		return nil, nil, &SPZError{Field: "flags", Offset: 14, InPayload: true,
			Err: fmt.Errorf("%w: extensions flag 0x2 is not supported in the %v container", ErrFormat, container)}
	}
	want := l.total()
	// ReadAll grows with the data actually present, never with the declared size.
	body, err := io.ReadAll(io.LimitReader(zr, want+1))
	if err != nil {
		return nil, nil, &SPZError{Field: "payload", Offset: 16 + int64(len(body)), InPayload: true, Err: streamErr(err)}
	}
	if int64(len(body)) != want {
		field, off := spzBlockAt(l, int64(len(body)))
		why := fmt.Errorf("%w: payload has %d attribute bytes, header implies %d", ErrTruncated, len(body), want)
		if int64(len(body)) > want {
			field, off = "payload", 16+want
			why = fmt.Errorf("%w: data continues past the %d attribute bytes the header implies", ErrFormat, want)
		}
		return nil, nil, &SPZError{Field: field, Offset: off, InPayload: true, Err: why}
	}
	blocks := make([][]byte, 6)
	off := 0
	for i, s := range l.sizes {
		blocks[i] = body[off : off+s]
		off += s
	}
	c := spzUnpack(l, blocks)
	if err := spzValidate(c, true); err != nil {
		return nil, nil, err
	}
	info := &SPZInfo{Container: container, Version: l.version, NumPoints: l.n, SHDegree: l.deg,
		FractionalBits: l.fb, Antialiased: h[14]&1 != 0, Flags: h[14], PayloadBytes: 16 + want}
	return c, info, nil
}

// spzBlockAt names the attribute block holding payload attribute byte at.
func spzBlockAt(l spzLayout, at int64) (string, int64) {
	start := int64(16)
	for i, s := range l.sizes {
		if at < int64(s) || i == len(l.sizes)-1 {
			return spzBlockNames[i], start + at
		}
		at -= int64(s)
		start += int64(s)
	}
	return "payload", start
}

func streamErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: decompressed data ends early", ErrTruncated)
	}
	return fmt.Errorf("%w: %w", ErrFormat, err)
}

// spzUnpack decodes the attribute blocks into a cloud.
func spzUnpack(l spzLayout, b [][]byte) *Cloud {
	c := NewCloud(l.n, l.deg)
	k := c.K()
	dim := k - 1
	for i := range l.n {
		for a := range 3 {
			if l.posBytes == 6 {
				c.Pos[3*i+a] = halfToFloat32(binary.LittleEndian.Uint16(b[0][6*i+2*a:]))
			} else {
				c.Pos[3*i+a] = spzUnpackPos(b[0][9*i+3*a:], l.fb)
			}
			c.SH[3*k*i+a] = spzUnpackColor(b[2][3*i+a])
			c.LogScale[3*i+a] = spzUnpackScale(b[3][3*i+a])
		}
		c.OpacityLogit[i] = spzUnpackAlpha(b[1][i])
		var q [4]float32
		if l.rotBytes == 3 {
			q = spzUnpackRotFirstThree(b[4][3*i:])
		} else {
			q = spzUnpackRotSmallest3(binary.LittleEndian.Uint32(b[4][4*i:]))
		}
		copy(c.Rot[4*i:], q[:])
		for j, v := range b[5][3*dim*i : 3*dim*(i+1)] {
			c.SH[3*k*i+3+j] = spzUnpackSH(v)
		}
	}
	return c
}

// spzValidate reports non-finite values (float16 Inf/NaN positions of a
// version-1 file) as a format error.
func spzValidate(c *Cloud, inPayload bool) error {
	if err := c.Validate(); err != nil {
		return &SPZError{Field: "positions", Offset: 16, InPayload: inPayload, Err: fmt.Errorf("%w: %w", ErrFormat, err)}
	}
	return nil
}

package splat

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// plyGrowChunk bounds how many vertices are allocated ahead of the data
// actually read when the input's length is unknown.
const plyGrowChunk = 1 << 16

// ReadPLYFile reads a Gaussian splat PLY file; errors are *PLYError with Path set.
func ReadPLYFile(path string) (*Cloud, *PLYInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &PLYError{Path: path, Offset: -1, Err: err}
	}
	defer f.Close()
	c, info, err := ReadPLY(f)
	if pe, ok := errors.AsType[*PLYError](err); ok {
		pe.Path = path
	}
	return c, info, err
}

// ReadPLY reads a 3DGS Gaussian splat PLY (ASCII, binary little or big
// endian; any property order and scalar types). The SH degree is inferred
// from the f_rest_* count, which the file stores channel-major; the Cloud
// gets its coefficient-major layout. Other elements are skipped. Errors are
// *PLYError wrapping ErrNotSplat, ErrTruncated, ErrFormat, ErrPackedPLY or
// ErrInvalidCloud (from Cloud.Validate, naming the vertex).
//
// When r has a known length (bytes.Reader, strings.Reader, bytes.Buffer, a
// seekable file) the declared counts are checked against it before any
// allocation; otherwise storage grows in bounded chunks as data arrives.
func ReadPLY(r io.Reader) (*Cloud, *PLYInfo, error) {
	total, known := readerLen(r)
	br := bufio.NewReaderSize(r, 64<<10)
	h, err := readHeader(br)
	if err != nil {
		return nil, nil, err
	}
	lay, err := layoutFor(h)
	if err != nil {
		return nil, nil, err
	}
	info := &PLYInfo{Format: h.format.String(), SHDegree: lay.shDegree, HasNormals: lay.hasNormals,
		Ignored: lay.ignored, Comments: h.comments}
	for _, e := range h.elements {
		info.Elements = append(info.Elements, e.name)
	}
	for _, p := range h.elements[lay.vertex].props {
		info.Properties = append(info.Properties, p.name)
	}
	body := &plyBody{br: br, off: h.size, line: h.lines, remaining: -1}
	if known {
		body.remaining = total - h.size
	}
	var c *Cloud
	if h.format == plyASCII {
		c, err = readASCIIBody(body, h, lay)
	} else {
		c, err = readBinaryBody(body, h, lay)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, &PLYError{Offset: -1, Element: "vertex", Err: err}
	}
	info.Vertices = c.Len()
	return c, info, nil
}

// readerLen reports how many bytes r still holds, when that can be known
// without consuming it.
func readerLen(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		end, err := v.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, false
		}
		if _, err := v.Seek(cur, io.SeekStart); err != nil {
			return 0, false
		}
		return end - cur, true
	}
	return 0, false
}

// plyBody tracks the read position in the body for error messages.
type plyBody struct {
	br        *bufio.Reader
	off       int64 // absolute byte offset of the next unread byte
	line      int   // last line consumed (ASCII)
	remaining int64 // body bytes left, or -1 when unknown
}

func (b *plyBody) read(p []byte) error {
	n, err := io.ReadFull(b.br, p)
	b.off += int64(n)
	if b.remaining >= 0 {
		b.remaining -= int64(n)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

func (b *plyBody) skip(n int64) error {
	m, err := b.br.Discard(int(min(n, math.MaxInt)))
	b.off += int64(m)
	if b.remaining >= 0 {
		b.remaining -= int64(m)
	}
	if errors.Is(err, io.EOF) {
		return ErrTruncated
	}
	return err
}

// needs checks that n more bytes can be present; it never fails when the
// length is unknown.
func (b *plyBody) needs(n int64, e *plyElement, what string) error {
	if b.remaining >= 0 && n > b.remaining {
		return &PLYError{Line: e.line, Offset: b.off, Element: e.name,
			Err: fmt.Errorf("%w: %s needs %d bytes but only %d remain", ErrTruncated, what, n, b.remaining)}
	}
	return nil
}

// newCloudStorage returns an empty cloud with capacity for n Gaussians.
func newCloudStorage(n, deg int) *Cloud {
	return &Cloud{SHDegree: deg,
		Pos: make([]float32, 0, 3*n), LogScale: make([]float32, 0, 3*n), Rot: make([]float32, 0, 4*n),
		OpacityLogit: make([]float32, 0, n), SH: make([]float32, 0, 3*SHCoeffs(deg)*n)}
}

// extend grows c by m zero Gaussians.
func (c *Cloud) extend(m int) {
	k := 3 * c.K()
	c.Pos = append(c.Pos, make([]float32, 3*m)...)
	c.LogScale = append(c.LogScale, make([]float32, 3*m)...)
	c.Rot = append(c.Rot, make([]float32, 4*m)...)
	c.OpacityLogit = append(c.OpacityLogit, make([]float32, m)...)
	c.SH = append(c.SH, make([]float32, k*m)...)
}

// set stores value v of slot s for Gaussian i.
func (c *Cloud) set(s *plySlot, i int, v float32) {
	switch s.dest {
	case dPos:
		c.Pos[3*i+s.comp] = v
	case dScale:
		c.LogScale[3*i+s.comp] = v
	case dRot:
		c.Rot[4*i+s.comp] = v
	case dOpacity:
		c.OpacityLogit[i] = v
	case dSH:
		c.SH[3*c.K()*i+s.comp] = v
	}
}

// slotTarget is a resolved destination for one vertex property.
type slotTarget struct {
	dst          []float32
	stride, comp int
	off          int
	typ          plyType
}

// slotTargets resolves the non-ignored slots against c's current arrays.
func (c *Cloud) slotTargets(slots []plySlot) []slotTarget {
	var out []slotTarget
	for _, s := range slots {
		t := slotTarget{comp: s.comp, off: s.off, typ: s.typ}
		switch s.dest {
		case dIgnore:
			continue
		case dPos:
			t.dst, t.stride = c.Pos, 3
		case dScale:
			t.dst, t.stride = c.LogScale, 3
		case dRot:
			t.dst, t.stride = c.Rot, 4
		case dOpacity:
			t.dst, t.stride = c.OpacityLogit, 1
		case dSH:
			t.dst, t.stride = c.SH, 3*c.K()
		}
		out = append(out, t)
	}
	return out
}

func readBinaryBody(b *plyBody, h *plyHeader, lay *plyLayout) (*Cloud, error) {
	var order binary.ByteOrder = binary.LittleEndian
	if h.format == plyBinaryBE {
		order = binary.BigEndian
	}
	for i := 0; i < lay.vertex; i++ {
		if err := skipBinaryElement(b, &h.elements[i], order); err != nil {
			return nil, err
		}
	}
	e := &h.elements[lay.vertex]
	n, rs := int(e.count), lay.recordSize
	if err := b.needs(int64(n)*int64(rs), e, fmt.Sprintf("%d vertices of %d bytes", n, rs)); err != nil {
		return nil, err
	}
	prealloc := n
	if b.remaining < 0 {
		prealloc = min(n, plyGrowChunk)
	}
	c := newCloudStorage(prealloc, lay.shDegree)
	chunk := max(1, min(n, (1<<20)/max(rs, 1)))
	buf := make([]byte, chunk*rs)
	allF32LE := h.format == plyBinaryLE
	for _, s := range lay.slots {
		allF32LE = allF32LE && s.typ == tFloat32
	}
	for done := 0; done < n; {
		m := min(chunk, n-done)
		start := b.off
		if err := b.read(buf[:m*rs]); err != nil {
			return nil, &PLYError{Offset: start, Element: "vertex",
				Err: fmt.Errorf("%w: vertex %d of %d: %w", ErrTruncated, done+int(b.off-start)/max(rs, 1), n, unwrapTrunc(err))}
		}
		c.extend(m)
		targets := c.slotTargets(lay.slots)
		for j := range m {
			rec := buf[j*rs : (j+1)*rs]
			i := done + j
			for k := range targets {
				tg := &targets[k]
				if allF32LE {
					tg.dst[i*tg.stride+tg.comp] = math.Float32frombits(binary.LittleEndian.Uint32(rec[tg.off:]))
				} else {
					tg.dst[i*tg.stride+tg.comp] = float32(decodeBinary(rec[tg.off:], tg.typ, order))
				}
			}
		}
		done += m
	}
	return c, nil
}

func unwrapTrunc(err error) error {
	if errors.Is(err, ErrTruncated) {
		return errors.New("data ends early")
	}
	return err
}

func decodeBinary(b []byte, t plyType, o binary.ByteOrder) float64 {
	switch t {
	case tInt8:
		return float64(int8(b[0]))
	case tUint8:
		return float64(b[0])
	case tInt16:
		return float64(int16(o.Uint16(b)))
	case tUint16:
		return float64(o.Uint16(b))
	case tInt32:
		return float64(int32(o.Uint32(b)))
	case tUint32:
		return float64(o.Uint32(b))
	case tFloat32:
		return float64(math.Float32frombits(o.Uint32(b)))
	case tFloat64:
		return math.Float64frombits(o.Uint64(b))
	}
	return 0
}

// skipBinaryElement skips all records of e; list properties are skipped by
// reading their counts.
func skipBinaryElement(b *plyBody, e *plyElement, order binary.ByteOrder) error {
	if rs := e.recordSize(); rs >= 0 {
		total := e.count * int64(rs)
		if rs > 0 && total/int64(rs) != e.count {
			return &PLYError{Line: e.line, Offset: b.off, Element: e.name, Err: fmt.Errorf("%w: element size overflows", ErrFormat)}
		}
		if err := b.needs(total, e, fmt.Sprintf("%d records of %d bytes", e.count, rs)); err != nil {
			return err
		}
		if err := b.skip(total); err != nil {
			return &PLYError{Offset: b.off, Element: e.name, Err: fmt.Errorf("%w: element data ends early", err)}
		}
		return nil
	}
	var cnt [8]byte
	for r := int64(0); r < e.count; r++ {
		for _, p := range e.props {
			start := b.off
			if !p.list {
				if err := b.skip(int64(p.typ.size())); err != nil {
					return &PLYError{Offset: start, Element: e.name, Property: p.name, Err: fmt.Errorf("%w: record %d", err, r)}
				}
				continue
			}
			cs := p.countType.size()
			if err := b.read(cnt[:cs]); err != nil {
				return &PLYError{Offset: start, Element: e.name, Property: p.name, Err: fmt.Errorf("%w: record %d: list count", err, r)}
			}
			k := decodeBinary(cnt[:cs], p.countType, order)
			if k < 0 {
				return &PLYError{Offset: start, Element: e.name, Property: p.name, Err: fmt.Errorf("%w: record %d: negative list count %v", ErrFormat, r, k)}
			}
			if err := b.skip(int64(k) * int64(p.typ.size())); err != nil {
				return &PLYError{Offset: start, Element: e.name, Property: p.name, Err: fmt.Errorf("%w: record %d: list of %v items", err, r, k)}
			}
		}
	}
	return nil
}

package splat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const maxPLYASCIILine = 1 << 20

// nextLine returns the fields of the next non-blank body line.
func (b *plyBody) nextLine() ([]string, error) {
	for {
		var buf []byte
		for {
			chunk, err := b.br.ReadSlice('\n')
			b.off += int64(len(chunk))
			buf = append(buf, chunk...)
			if len(buf) > maxPLYASCIILine {
				return nil, fmt.Errorf("%w: line longer than %d bytes", ErrFormat, maxPLYASCIILine)
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				if len(buf) == 0 {
					return nil, ErrTruncated
				}
				break
			}
			return nil, err
		}
		b.line++
		if f := strings.Fields(string(buf)); len(f) > 0 {
			return f, nil
		}
	}
}

func parseASCIIValue(s string, t plyType) (float64, error) {
	switch t {
	case tFloat32, tFloat64:
		return strconv.ParseFloat(s, 64)
	case tUint8, tUint16, tUint32:
		v, err := strconv.ParseUint(s, 10, 8*t.size())
		return float64(v), err
	default:
		v, err := strconv.ParseInt(s, 10, 8*t.size())
		return float64(v), err
	}
}

func readASCIIBody(b *plyBody, h *plyHeader, lay *plyLayout) (*Cloud, error) {
	for i := 0; i < lay.vertex; i++ {
		if err := skipASCIIElement(b, &h.elements[i]); err != nil {
			return nil, err
		}
	}
	e := &h.elements[lay.vertex]
	n := int(e.count)
	// Every value takes at least one character and one separator.
	if err := b.needs(int64(n)*int64(2*len(lay.slots))-1, e, fmt.Sprintf("%d ASCII vertices", n)); err != nil {
		return nil, err
	}
	var c *Cloud
	if b.remaining >= 0 {
		c = newCloudStorage(n, lay.shDegree)
		c.extend(n)
	} else {
		c = newCloudStorage(min(n, plyGrowChunk), lay.shDegree)
	}
	for i := range n {
		start := b.off
		f, err := b.nextLine()
		if err != nil {
			return nil, &PLYError{Line: b.line + 1, Offset: start, Element: "vertex", Err: fmt.Errorf("%w: vertex %d of %d", err, i, n)}
		}
		if len(f) != len(lay.slots) {
			return nil, &PLYError{Line: b.line, Offset: start, Element: "vertex",
				Err: fmt.Errorf("%w: vertex %d has %d values, want %d", ErrFormat, i, len(f), len(lay.slots))}
		}
		if i >= c.Len() {
			c.extend(min(plyGrowChunk, n-i))
		}
		for k := range lay.slots {
			s := &lay.slots[k]
			v, err := parseASCIIValue(f[k], s.typ)
			if err != nil {
				return nil, &PLYError{Line: b.line, Offset: start, Element: "vertex", Property: s.name,
					Err: fmt.Errorf("%w: vertex %d: bad %s value %q", ErrFormat, i, typeName(s.typ), clip(f[k]))}
			}
			c.set(s, i, float32(v))
		}
	}
	return c, nil
}

func skipASCIIElement(b *plyBody, e *plyElement) error {
	if err := b.needs(2*e.count-1, e, fmt.Sprintf("%d ASCII records", e.count)); err != nil {
		return err
	}
	for r := int64(0); r < e.count; r++ {
		start := b.off
		f, err := b.nextLine()
		if err != nil {
			return &PLYError{Line: b.line + 1, Offset: start, Element: e.name, Err: fmt.Errorf("%w: record %d of %d", err, r, e.count)}
		}
		k := 0
		for _, p := range e.props {
			bad := func(why string) error {
				return &PLYError{Line: b.line, Offset: start, Element: e.name, Property: p.name,
					Err: fmt.Errorf("%w: record %d: %s", ErrFormat, r, why)}
			}
			if k >= len(f) {
				return bad("too few values")
			}
			if !p.list {
				k++
				continue
			}
			cnt, err := strconv.ParseUint(f[k], 10, 32)
			if err != nil {
				return bad(fmt.Sprintf("bad list count %q", clip(f[k])))
			}
			if uint64(len(f)-k-1) < cnt {
				return bad(fmt.Sprintf("list of %d items has only %d values", cnt, len(f)-k-1))
			}
			k += 1 + int(cnt)
		}
		if k != len(f) {
			return &PLYError{Line: b.line, Offset: start, Element: e.name,
				Err: fmt.Errorf("%w: record %d has %d values, want %d", ErrFormat, r, len(f), k)}
		}
	}
	return nil
}

func typeName(t plyType) string {
	for k, v := range plyTypeNames {
		if v == t && !strings.ContainsAny(k, "0123456789") {
			return k
		}
	}
	return "?"
}

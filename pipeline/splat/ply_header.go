package splat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxPLYVertices caps the vertex count ReadPLY accepts; a larger declared
// count is an ErrFormat error before anything is allocated.
const MaxPLYVertices = 50_000_000

const (
	maxPLYHeaderBytes = 1 << 20 // header larger than this is refused
	maxPLYLineBytes   = 4096
)

type plyFormat uint8

const (
	plyASCII plyFormat = iota
	plyBinaryLE
	plyBinaryBE
)

var plyFormatNames = map[string]plyFormat{
	"ascii": plyASCII, "binary_little_endian": plyBinaryLE, "binary_big_endian": plyBinaryBE,
}

func (f plyFormat) String() string {
	for k, v := range plyFormatNames {
		if v == f {
			return k
		}
	}
	return "unknown"
}

// plyType is a PLY scalar type.
type plyType uint8

const (
	tInt8 plyType = iota + 1
	tUint8
	tInt16
	tUint16
	tInt32
	tUint32
	tFloat32
	tFloat64
)

var plyTypeNames = map[string]plyType{
	"char": tInt8, "int8": tInt8, "uchar": tUint8, "uint8": tUint8,
	"short": tInt16, "int16": tInt16, "ushort": tUint16, "uint16": tUint16,
	"int": tInt32, "int32": tInt32, "uint": tUint32, "uint32": tUint32,
	"float": tFloat32, "float32": tFloat32, "double": tFloat64, "float64": tFloat64,
}

func (t plyType) size() int {
	switch t {
	case tInt8, tUint8:
		return 1
	case tInt16, tUint16:
		return 2
	case tInt32, tUint32, tFloat32:
		return 4
	case tFloat64:
		return 8
	}
	return 0
}

func (t plyType) isInt() bool { return t != tFloat32 && t != tFloat64 }

type plyProperty struct {
	name      string
	typ       plyType // item type for lists
	list      bool
	countType plyType // list length type
	line      int
}

type plyElement struct {
	name  string
	count int64
	props []plyProperty
	line  int
}

// recordSize is the byte size of one binary record, or -1 when the element
// has list properties (variable size).
func (e *plyElement) recordSize() int {
	n := 0
	for _, p := range e.props {
		if p.list {
			return -1
		}
		n += p.typ.size()
	}
	return n
}

type plyHeader struct {
	format   plyFormat
	elements []plyElement
	comments []string
	lines    int   // number of header lines, end_header included
	size     int64 // header bytes, end_header's newline included
}

func headerErr(line int, off int64, prop string, err error) *PLYError {
	return &PLYError{Line: line, Offset: off, Property: prop, Err: err}
}

// readHeader parses the header from br, leaving br at the first body byte.
func readHeader(br *bufio.Reader) (*plyHeader, error) {
	h := &plyHeader{}
	var line int
	var cur *plyElement
	seen := map[string]bool{}
	sawFormat := false
	for {
		line++
		start := h.size
		raw, err := readHeaderLine(br, &h.size)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: header ends without end_header", ErrTruncated)
			}
			return nil, headerErr(line, start, "", err)
		}
		if h.size > maxPLYHeaderBytes {
			return nil, headerErr(line, start, "", fmt.Errorf("%w: header longer than %d bytes", ErrFormat, maxPLYHeaderBytes))
		}
		text := strings.TrimRight(raw, "\r")
		fields := strings.Fields(text)
		bad := func(format string, a ...any) error {
			return headerErr(line, start, "", fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...))
		}
		if line == 1 {
			if text != "ply" {
				return nil, bad("not a PLY file: first line is %q, want \"ply\"", clip(text))
			}
			continue
		}
		if len(fields) == 0 {
			return nil, bad("empty header line")
		}
		switch fields[0] {
		case "comment", "obj_info":
			h.comments = append(h.comments, strings.TrimSpace(strings.TrimPrefix(text, fields[0])))
		case "format":
			if sawFormat || line != 2 {
				return nil, bad("format must be the second line and appear once")
			}
			if len(fields) != 3 {
				return nil, bad("want \"format <type> 1.0\", got %q", clip(text))
			}
			f, ok := plyFormatNames[fields[1]]
			if !ok {
				return nil, bad("unknown format %q", clip(fields[1]))
			}
			if fields[2] != "1.0" {
				return nil, bad("unsupported PLY version %q", clip(fields[2]))
			}
			h.format, sawFormat = f, true
		case "element":
			if !sawFormat {
				return nil, bad("element before the format line")
			}
			if len(fields) != 3 {
				return nil, bad("want \"element <name> <count>\", got %q", clip(text))
			}
			n, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil || n < 0 {
				return nil, bad("element %q: bad count %q", clip(fields[1]), clip(fields[2]))
			}
			if fields[1] == "vertex" && n > MaxPLYVertices {
				return nil, bad("element vertex declares %d vertices, more than the limit %d", n, MaxPLYVertices)
			}
			if seen["\x00"+fields[1]] {
				return nil, bad("element %q declared twice", clip(fields[1]))
			}
			seen["\x00"+fields[1]] = true
			h.elements = append(h.elements, plyElement{name: fields[1], count: n, line: line})
			cur = &h.elements[len(h.elements)-1]
		case "property":
			if cur == nil {
				return nil, bad("property outside an element")
			}
			p, err := parseProperty(fields, line)
			if err != nil {
				return nil, headerErr(line, start, "", err)
			}
			for _, q := range cur.props {
				if q.name == p.name {
					return nil, headerErr(line, start, p.name, fmt.Errorf("%w: element %q: property declared twice", ErrFormat, cur.name))
				}
			}
			cur.props = append(cur.props, p)
		case "end_header":
			if len(fields) != 1 {
				return nil, bad("junk after end_header")
			}
			if !sawFormat {
				return nil, bad("no format line")
			}
			h.lines = line
			return h, nil
		default:
			return nil, bad("unknown header keyword %q", clip(fields[0]))
		}
	}
}

func parseProperty(fields []string, line int) (plyProperty, error) {
	p := plyProperty{line: line}
	if len(fields) >= 2 && fields[1] == "list" {
		if len(fields) != 5 {
			return p, fmt.Errorf("%w: want \"property list <count type> <item type> <name>\"", ErrFormat)
		}
		ct, ok1 := plyTypeNames[fields[2]]
		it, ok2 := plyTypeNames[fields[3]]
		if !ok1 || !ok2 || !ct.isInt() {
			return p, fmt.Errorf("%w: property %q: bad list types %q %q", ErrFormat, clip(fields[4]), clip(fields[2]), clip(fields[3]))
		}
		p.list, p.countType, p.typ, p.name = true, ct, it, fields[4]
		return p, nil
	}
	if len(fields) != 3 {
		return p, fmt.Errorf("%w: want \"property <type> <name>\"", ErrFormat)
	}
	t, ok := plyTypeNames[fields[1]]
	if !ok {
		return p, fmt.Errorf("%w: property %q: unknown type %q", ErrFormat, clip(fields[2]), clip(fields[1]))
	}
	p.typ, p.name = t, fields[2]
	return p, nil
}

// readHeaderLine returns one line without its '\n', adding the bytes
// consumed to *n. Lines longer than maxPLYLineBytes are an error.
func readHeaderLine(br *bufio.Reader, n *int64) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		*n += int64(len(chunk))
		buf = append(buf, chunk...)
		if len(buf) > maxPLYLineBytes {
			return "", fmt.Errorf("%w: header line longer than %d bytes", ErrFormat, maxPLYLineBytes)
		}
		if err == nil {
			return string(buf[:len(buf)-1]), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return "", err
	}
}

// clip shortens s for error messages and makes binary junk printable.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return string(bytes.ToValidUTF8([]byte(s), []byte("?")))
}

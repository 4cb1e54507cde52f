package splat

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// plyDest says where a vertex property goes in a Cloud.
type plyDest uint8

const (
	dIgnore plyDest = iota
	dPos
	dScale
	dRot
	dOpacity
	dSH
)

type plySlot struct {
	dest plyDest
	comp int // component index within the per-Gaussian block
	typ  plyType
	off  int // byte offset within a binary record
	name string
}

type plyLayout struct {
	vertex     int // index of the vertex element
	slots      []plySlot
	recordSize int
	shDegree   int
	hasNormals bool
	ignored    []string
}

var requiredSplatProps = []string{
	"x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
	"scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
}

// shDegreeForRest maps a count of f_rest_* properties to the SH degree.
var shDegreeForRest = map[int]int{0: 0, 9: 1, 24: 2, 45: 3}

// layoutFor checks that h describes a Gaussian splat and maps the vertex
// properties to Cloud attributes.
func layoutFor(h *plyHeader) (*plyLayout, error) {
	lay := &plyLayout{vertex: -1}
	for i := range h.elements {
		e := &h.elements[i]
		if e.name == "chunk" {
			return nil, headerErr(e.line, -1, "", fmt.Errorf("%w (SuperSplat-style element %q); decompress it to a plain 3DGS PLY first", ErrPackedPLY, e.name))
		}
		if e.name == "vertex" {
			lay.vertex = i
		}
	}
	if lay.vertex < 0 {
		return nil, headerErr(h.lines, -1, "", fmt.Errorf("%w: no vertex element", ErrNotSplat))
	}
	v := &h.elements[lay.vertex]
	byName := map[string]*plyProperty{}
	for i := range v.props {
		p := &v.props[i]
		if strings.HasPrefix(p.name, "packed_") {
			return nil, headerErr(p.line, -1, p.name, fmt.Errorf("%w (packed vertex property); decompress it to a plain 3DGS PLY first", ErrPackedPLY))
		}
		byName[p.name] = p
	}
	var missing []string
	for _, name := range requiredSplatProps {
		if byName[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &PLYError{Line: v.line, Offset: -1, Element: "vertex",
			Err: fmt.Errorf("%w: vertex element lacks %s (a mesh or plain point cloud?)", ErrNotSplat, strings.Join(missing, " "))}
	}
	for i := range h.elements {
		e := &h.elements[i]
		for _, p := range e.props {
			if p.list && (i == lay.vertex || e.name != "face") {
				return nil, headerErr(p.line, -1, p.name, fmt.Errorf("%w: element %q: list properties are only supported in a face element", ErrFormat, e.name))
			}
		}
	}
	// f_rest_* must be exactly 0..n-1 with n in {0, 9, 24, 45}.
	var rest []int
	for _, p := range v.props {
		if s, ok := strings.CutPrefix(p.name, "f_rest_"); ok {
			j, err := strconv.Atoi(s)
			if err != nil || j < 0 || strconv.Itoa(j) != s {
				return nil, headerErr(p.line, -1, p.name, fmt.Errorf("%w: bad f_rest property name", ErrFormat))
			}
			rest = append(rest, j)
		}
	}
	deg, ok := shDegreeForRest[len(rest)]
	if !ok {
		return nil, &PLYError{Line: v.line, Offset: -1, Element: "vertex",
			Err: fmt.Errorf("%w: %d f_rest_* properties; want 0, 9, 24 or 45 (SH degree 0..3)", ErrFormat, len(rest))}
	}
	sort.Ints(rest)
	for k, j := range rest {
		if j != k {
			return nil, &PLYError{Line: v.line, Offset: -1, Element: "vertex",
				Err: fmt.Errorf("%w: f_rest_* indices are not 0..%d (f_rest_%d missing)", ErrFormat, len(rest)-1, k)}
		}
	}
	lay.shDegree = deg
	restPerChannel := SHCoeffs(deg) - 1
	off := 0
	for _, p := range v.props {
		s := plySlot{typ: p.typ, off: off, name: p.name}
		off += p.typ.size()
		switch p.name {
		case "x", "y", "z":
			s.dest, s.comp = dPos, int(p.name[0]-'x')
		case "scale_0", "scale_1", "scale_2":
			s.dest, s.comp = dScale, int(p.name[6]-'0')
		case "rot_0", "rot_1", "rot_2", "rot_3":
			s.dest, s.comp = dRot, int(p.name[4]-'0')
		case "opacity":
			s.dest = dOpacity
		case "f_dc_0", "f_dc_1", "f_dc_2":
			s.dest, s.comp = dSH, int(p.name[5]-'0')
		case "nx", "ny", "nz":
			lay.hasNormals = true
		default:
			if j, ok := strings.CutPrefix(p.name, "f_rest_"); ok {
				jj, _ := strconv.Atoi(j)
				ch, k := jj/restPerChannel, 1+jj%restPerChannel
				s.dest, s.comp = dSH, k*3+ch
			} else {
				lay.ignored = append(lay.ignored, p.name)
			}
		}
		lay.slots = append(lay.slots, s)
	}
	lay.recordSize = off
	return lay, nil
}

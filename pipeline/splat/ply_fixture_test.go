package splat

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The package's -update flag may also be defined by another test file of
// this package; register it only if nobody has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func codecUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// codecRandCloud makes a deterministic random cloud with values in the
// ranges real splats use.
func codecRandCloud(seed uint64, n, deg int) *Cloud {
	rng := rand.New(rand.NewPCG(seed, 17))
	c := NewCloud(n, deg)
	u := func(lo, hi float64) float32 { return float32(lo + (hi-lo)*rng.Float64()) }
	for i := range c.Pos {
		c.Pos[i] = u(-2, 2)
	}
	for i := range c.LogScale {
		c.LogScale[i] = u(-9, 0)
	}
	for i := range c.Rot {
		c.Rot[i] = u(-1, 1)
	}
	for i := range n {
		if c.Rot[4*i] == 0 && c.Rot[4*i+1] == 0 {
			c.Rot[4*i] = 1 // never the zero quaternion
		}
	}
	for i := range c.OpacityLogit {
		c.OpacityLogit[i] = u(-6, 6)
	}
	k := c.K()
	for i := range n {
		for j := range k {
			for ch := range 3 {
				lim := 3.0
				if j > 0 {
					lim = 0.9
				}
				c.SH[(i*k+j)*3+ch] = u(-lim, lim)
			}
		}
	}
	return c
}

// plyProp is one vertex property of a fixture file.
type plyProp struct {
	name, typ string
}

// plyValue returns the value property name holds for Gaussian i of c, in
// the Inria PLY's conventions; unknown names get a fixed filler.
func plyValue(c *Cloud, i int, name string) float64 {
	k := c.K()
	var j int
	switch {
	case name == "x" || name == "y" || name == "z":
		return float64(c.Pos[3*i+int(name[0]-'x')])
	case name == "opacity":
		return float64(c.OpacityLogit[i])
	case sscan(name, "scale_%d", &j):
		return float64(c.LogScale[3*i+j])
	case sscan(name, "rot_%d", &j):
		return float64(c.Rot[4*i+j])
	case sscan(name, "f_dc_%d", &j):
		return float64(c.SH[3*k*i+j])
	case sscan(name, "f_rest_%d", &j):
		ch, kk := j/(k-1), 1+j%(k-1)
		return float64(c.SH[3*k*i+3*kk+ch])
	case name == "nx" || name == "ny" || name == "nz":
		return 0
	}
	return 7
}

func sscan(s, format string, j *int) bool {
	_, err := fmt.Sscanf(s, format, j)
	return err == nil && fmt.Sprintf(format, *j) == s
}

// splatProps returns the standard property list for degree deg.
func splatProps(deg int, normals bool) []plyProp {
	var ps []plyProp
	for _, n := range plyWriteProps(deg) {
		if !normals && (n == "nx" || n == "ny" || n == "nz") {
			continue
		}
		ps = append(ps, plyProp{n, "float"})
	}
	return ps
}

// encodePLYFixture writes c with an arbitrary property list and format;
// pre and post are raw header+body snippets for extra elements placed
// before and after the vertex element (already encoded for that format).
type plyExtra struct{ header, body string }

func encodePLYFixture(c *Cloud, format string, props []plyProp, pre, post []plyExtra) []byte {
	var h, b bytes.Buffer
	fmt.Fprintf(&h, "ply\nformat %s 1.0\ncomment made by splatbench tests\n", format)
	for _, e := range pre {
		h.WriteString(e.header)
		b.WriteString(e.body)
	}
	fmt.Fprintf(&h, "element vertex %d\n", c.Len())
	for _, p := range props {
		fmt.Fprintf(&h, "property %s %s\n", p.typ, p.name)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if format == "binary_big_endian" {
		order = binary.BigEndian
	}
	for i := range c.Len() {
		for k, p := range props {
			v := plyValue(c, i, p.name)
			if format == "ascii" {
				if k > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 32))
				continue
			}
			putPLYValue(&b, order, p.typ, v)
		}
		if format == "ascii" {
			b.WriteByte('\n')
		}
	}
	for _, e := range post {
		h.WriteString(e.header)
		b.WriteString(e.body)
	}
	h.WriteString("end_header\n")
	return append(h.Bytes(), b.Bytes()...)
}

func putPLYValue(b *bytes.Buffer, o binary.ByteOrder, typ string, v float64) {
	var tmp [8]byte
	switch typ {
	case "float":
		o.PutUint32(tmp[:], math.Float32bits(float32(v)))
		b.Write(tmp[:4])
	case "double":
		o.PutUint64(tmp[:], math.Float64bits(v))
		b.Write(tmp[:8])
	case "uchar":
		b.WriteByte(byte(v))
	case "short":
		o.PutUint16(tmp[:], uint16(int16(v)))
		b.Write(tmp[:2])
	case "int":
		o.PutUint32(tmp[:], uint32(int32(v)))
		b.Write(tmp[:4])
	default:
		panic("fixture type " + typ)
	}
}

// checkGolden compares got with testdata/<dir>/<name>, rewriting it under -update.
func checkGolden(t *testing.T, dir, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", dir, name)
	if codecUpdate() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator's output (%d vs %d bytes); run with -update if the change is intended", path, len(want), len(got))
	}
	return want
}

// checkGoldenRead returns testdata/<dir>/<name>.
func checkGoldenRead(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, name))
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	return b
}

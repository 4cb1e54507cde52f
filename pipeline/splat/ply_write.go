package splat

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// plyWriteHeader returns the header WritePLY emits: the layout the subnet's
// SPZ encoder accepts (docs/protocol.md §4.2): LF line endings, no
// comments, float properties only, Inria order with zero normals.
func plyWriteHeader(n, deg int) string {
	var b strings.Builder
	b.WriteString("ply\nformat binary_little_endian 1.0\nelement vertex ")
	b.WriteString(strconv.Itoa(n))
	b.WriteString("\n")
	for _, name := range plyWriteProps(deg) {
		b.WriteString("property float ")
		b.WriteString(name)
		b.WriteString("\n")
	}
	b.WriteString("end_header\n")
	return b.String()
}

// plyWriteProps lists the vertex properties in WritePLY's order.
func plyWriteProps(deg int) []string {
	names := []string{"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"}
	for j := range 3 * (SHCoeffs(deg) - 1) {
		names = append(names, fmt.Sprintf("f_rest_%d", j))
	}
	return append(names, "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")
}

// WritePLY writes c as a binary little-endian 3DGS PLY in exactly the layout
// the subnet's gate accepts: x y z nx ny nz f_dc_0..2 f_rest_* opacity
// scale_0..2 rot_0..3, all float, normals zero, no comments. f_rest is
// written channel-major (all R, then G, then B). An invalid cloud (see
// Cloud.Validate) is refused before anything is written.
func WritePLY(w io.Writer, c *Cloud) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("write ply: %w", err)
	}
	n, k := c.Len(), c.K()
	if _, err := io.WriteString(w, plyWriteHeader(n, c.SHDegree)); err != nil {
		return fmt.Errorf("write ply header: %w", err)
	}
	rs := 4 * (14 + 3*k)
	per := max(1, (256<<10)/rs) // records per write
	buf := make([]byte, 0, per*rs)
	put := func(v float32) { buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v)) }
	for i := range n {
		for _, v := range c.Pos[3*i : 3*i+3] {
			put(v)
		}
		buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // normals
		sh := c.SH[3*k*i : 3*k*(i+1)]
		put(sh[0])
		put(sh[1])
		put(sh[2])
		for ch := range 3 {
			for j := 1; j < k; j++ {
				put(sh[3*j+ch])
			}
		}
		put(c.OpacityLogit[i])
		for _, v := range c.LogScale[3*i : 3*i+3] {
			put(v)
		}
		for _, v := range c.Rot[4*i : 4*i+4] {
			put(v)
		}
		if len(buf)+rs > cap(buf) || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write ply: vertex %d: %w", i, err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

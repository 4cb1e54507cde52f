package splat

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the subnet's validity gates (docs/protocol.md §3.3, §4.2).
const (
	GateMinGaussians     = 7000       // validator: fewer scores 0
	GateMaxEncodePoints  = 10_485_760 // SPZ encoder's PLY header limit
	GateMaxDecodePoints  = 10_000_000 // SPZ decoder (validation service) limit
	gateLowOpacity       = 1e-3       // sigmoid(opacity) below this counts as transparent
	gateMaxLowOpacity    = 0.8        // more than this fraction transparent fails
	gateMaxPLYRest       = 45         // f_rest properties the encoder reads
	spzPositionLimit     = 2048       // |p| ≥ this wraps in 24-bit fixed point at 12 fractional bits
	gateFirstPointsCheck = 3
)

// GateReport is the outcome of a gate check. OK is true when Reasons is
// empty. Warnings never fail the gate but signal silent damage (for example
// positions the SPZ encoder will wrap).
type GateReport struct {
	OK       bool
	Reasons  []string
	Warnings []string
}

func (g *GateReport) fail(format string, a ...any) {
	g.Reasons = append(g.Reasons, fmt.Sprintf(format, a...))
}

func (g *GateReport) warn(format string, a ...any) {
	g.Warnings = append(g.Warnings, fmt.Sprintf(format, a...))
}

// CheckGate applies the validator's data validity gates (docs/protocol.md
// docs/protocol.md §3.3: count, first points, opacity, rotations) and the SPZ encoder/decoder
// limits (docs/protocol.md §4.2, §4.3) to a cloud. The validator's free-VRAM estimate is not
// checked: it depends on the validator's GPU.
func CheckGate(c *Cloud) GateReport {
	var g GateReport
	if err := c.Validate(); err != nil {
		g.fail("%v", err)
		return g
	}
	n := c.Len()
	if n < GateMinGaussians {
		g.fail("%d Gaussians; the validator requires at least %d", n, GateMinGaussians)
	}
	if n > GateMaxEncodePoints {
		g.fail("%d Gaussians; the SPZ encoder accepts at most %d", n, GateMaxEncodePoints)
	} else if n > GateMaxDecodePoints {
		g.fail("%d Gaussians; the validator's SPZ decoder accepts at most %d", n, GateMaxDecodePoints)
	}
	if m := min(n, gateFirstPointsCheck); m > 0 {
		allOnes := true
		for _, v := range c.Pos[:3*m] {
			allOnes = allOnes && v == 1
		}
		if allOnes {
			g.fail("the first %d points are all (1, 1, 1)", m)
		}
	}
	if n > 0 {
		low := 0
		for i := range n {
			if c.Opacity(i) < gateLowOpacity {
				low++
			}
		}
		if float64(low) > gateMaxLowOpacity*float64(n) {
			g.fail("%d of %d opacities (%.1f%%) are below %g after the sigmoid; at most %.0f%% may be",
				low, n, 100*float64(low)/float64(n), gateLowOpacity, 100*gateMaxLowOpacity)
		}
		identity := true
		for i := 0; i < n && identity; i++ {
			identity = c.UnitRot(i) == [4]float32{1, 0, 0, 0}
		}
		if identity {
			g.fail("every rotation is the identity quaternion (1, 0, 0, 0)")
		}
	}
	far := 0
	for _, v := range c.Pos {
		if v >= spzPositionLimit || v <= -spzPositionLimit {
			far++
		}
	}
	if far > 0 {
		g.warn("%d position coordinates are outside ±%d and will wrap around in SPZ", far, spzPositionLimit)
	}
	g.OK = len(g.Reasons) == 0
	return g
}

// CheckPLYGate applies the header rules the subnet's SPZ encoder enforces on
// a raw PLY file (docs/protocol.md §4.2): LF-only lines, "ply", then
// "format binary_little_endian 1.0", then "element vertex N" with 1 ≤ N ≤
// 10,485,760, then only "property float NAME" lines (no comments) until
// end_header; the required properties; f_rest_* contiguous from 0 in a
// multiple of 3; and a body of N × properties floats.
func CheckPLYGate(data []byte) GateReport {
	var g GateReport
	end := bytes.Index(data, []byte("end_header\n"))
	if end < 0 || (end > 0 && data[end-1] != '\n') {
		g.fail("no \"end_header\" line terminated by LF")
		g.OK = false
		return g
	}
	header := string(data[:end])
	body := data[end+len("end_header\n"):]
	if strings.Contains(header, "\r") {
		g.fail("header has CR characters; the encoder accepts LF line endings only")
	}
	lines := strings.Split(strings.TrimSuffix(header, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	if len(lines) < 3 {
		g.fail("header has %d lines before end_header; want ply, format, element vertex, properties", len(lines))
		return g
	}
	if lines[0] != "ply" {
		g.fail("line 1 is %q, want \"ply\"", clip(lines[0]))
	}
	if lines[1] != "format binary_little_endian 1.0" {
		g.fail("line 2 is %q, want \"format binary_little_endian 1.0\"", clip(lines[1]))
	}
	n := int64(-1)
	if rest, ok := strings.CutPrefix(lines[2], "element vertex "); !ok {
		g.fail("line 3 is %q, want \"element vertex N\" (comments are not allowed)", clip(lines[2]))
	} else if v, err := strconv.ParseInt(rest, 10, 64); err != nil || v < 1 || v > GateMaxEncodePoints {
		g.fail("line 3: vertex count %q outside 1..%d", clip(rest), GateMaxEncodePoints)
	} else {
		n = v
		if n > GateMaxDecodePoints {
			g.fail("line 3: %d vertices; the encoder takes it but the validator's decoder accepts at most %d", n, GateMaxDecodePoints)
		}
	}
	props := map[string]bool{}
	for i, l := range lines[3:] {
		name, ok := strings.CutPrefix(l, "property float ")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			g.fail("line %d is %q, want \"property float NAME\"", i+4, clip(l))
			continue
		}
		props[name] = true
	}
	var missing []string
	for _, name := range requiredSplatProps {
		if !props[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		g.fail("missing required properties: %s", strings.Join(missing, " "))
	}
	rest := 0
	for rest < gateMaxPLYRest && props[fmt.Sprintf("f_rest_%d", rest)] {
		rest++
	}
	if rest%3 != 0 {
		g.fail("%d contiguous f_rest_* properties; the count must be a multiple of 3", rest)
	} else if _, ok := shDegreeForRest[rest]; !ok {
		g.warn("%d f_rest_* properties is not a full SH degree (0, 9, 24 or 45)", rest)
	}
	nprops := int64(len(lines) - 3)
	if n > 0 && int64(len(body)) < n*nprops*4 {
		g.fail("body has %d bytes; %d vertices × %d float properties need %d", len(body), n, nprops, n*nprops*4)
	}
	g.OK = len(g.Reasons) == 0
	return g
}

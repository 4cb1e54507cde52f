package ort

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// nodeFLOPs counts the floating-point operations of one node from the
// shapes ORT recorded for it (a multiply-add is 2): matrix products,
// convolutions and fused attention, the work a GPU does on its tensor
// cores. Other operators, and a node whose shapes the profile lacks (on the
// CPU ORT pre-packs constant weights and leaves them out), count 0.
func nodeFLOPs(op string, in, out []typedShape) float64 {
	if len(in) == 0 || len(out) == 0 || len(in[0]) == 0 || len(out[0]) == 0 {
		return 0
	}
	a, y := in[0], out[0]
	switch op {
	case "MatMul", "FusedMatMul", "MatMulInteger", "MatMulIntegerToFloat", "Gemm":
		// y[..., M, N] = a[..., M, K] · b[..., K, N], a possibly transposed:
		// K is the dimension of a's last two that is not M.
		k := a[len(a)-1]
		if len(a) >= 2 && len(y) >= 2 && a[len(a)-1] == y[len(y)-2] && a[len(a)-2] != y[len(y)-2] {
			k = a[len(a)-2]
		}
		return 2 * prod(y) * float64(k)
	case "Conv", "FusedConv", "NhwcConv", "QLinearConv":
		// The weight [Cout, Cin/groups, kh, kw] (any layout): every output
		// value takes Cin/groups·kh·kw multiply-adds.
		if len(in) < 2 || len(in[1]) < 2 {
			return 0
		}
		return 2 * prod(y) * prod(in[1][1:])
	case "ConvTranspose":
		// The weight [Cin, Cout/groups, kh, kw]: every input value spreads
		// over Cout/groups·kh·kw outputs.
		if len(in) < 2 || len(in[1]) < 2 {
			return 0
		}
		return 2 * prod(a) * prod(in[1][1:])
	case "MultiHeadAttention":
		// query [B, S, D], key [B, L, D], [B, heads, L, D/heads] or packed
		// with the values [B, L, heads, 2, D/heads], output [B, S, Dv]: Q·Kᵀ
		// and the weights times V.
		if len(in) < 2 || len(a) != 3 || len(y) != 3 || len(in[1]) < 3 {
			return 0
		}
		k := in[1]
		l := k[1]
		if len(k) == 4 {
			l = k[2]
		}
		return 2 * float64(a[0]) * float64(a[1]) * float64(l) * float64(a[2]+y[2])
	}
	return 0
}

// views are the operators whose output ORT's kernels make a view of their
// input (or that read only its shape): they move no data, whatever sizes
// the profile gives them.
var views = map[string]bool{"Reshape": true, "Squeeze": true, "Unsqueeze": true, "Flatten": true,
	"Identity": true, "Shape": true, "Size": true}

func prod(dims []int64) float64 {
	p := 1.0
	for _, d := range dims {
		p *= float64(d)
	}
	return p
}

// Floor is the least time the run's work can take on a device whose matrix
// units reach flops (FLOP/s) and whose memory reaches bandwidth (bytes/s):
// compute is the FLOP floor (all the FLOPs at the peak); roofline runs the
// nodes one after another, as ORT does, each at the slower of its FLOPs at
// the peak and its bytes at the bandwidth: what this graph allows with
// perfect kernels. The gap between them is the price of the graph's
// unfused, memory-bound operators.
func (p *Placement) Floor(flops, bandwidth float64) (compute, roofline time.Duration) {
	return Floor(p.work, flops, bandwidth)
}

// Floor is Placement.Floor of some of a run's nodes (one block of a
// transformer, say).
func Floor(nodes []NodeWork, flops, bandwidth float64) (compute, roofline time.Duration) {
	if flops <= 0 || bandwidth <= 0 {
		return 0, 0
	}
	var c, r float64
	for _, w := range nodes {
		c += w.FLOPs / flops
		r += max(w.FLOPs/flops, float64(w.Bytes)/bandwidth)
	}
	return seconds(c), seconds(r)
}

// Work lists the run's nodes in the order they ran, with their work.
func (p *Placement) Work() []NodeWork { return slices.Clone(p.work) }

// seconds converts to a Duration, saturating (a profile's shapes can claim
// any size).
func seconds(s float64) time.Duration {
	if !(s < float64(math.MaxInt64)/float64(time.Second)) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// JobWork is the model work of one job: each placement's run weighted by
// how many times its session ran a job (Runs / jobs), and the floors of
// that work at flops and bandwidth (zero when either is 0).
type JobWork struct {
	FLOPs, Bytes      float64
	Compute, Roofline time.Duration
	Models            int // the placements whose sessions ran
}

// WorkPerJob sums the work of the placements' sessions over jobs jobs.
func WorkPerJob(ps []*Placement, jobs int, flops, bandwidth float64) JobWork {
	var w JobWork
	if jobs < 1 {
		return w
	}
	var c, r float64 // seconds
	for _, p := range ps {
		if p.Runs == 0 {
			continue
		}
		w.Models++
		k := float64(p.Runs) / float64(jobs)
		w.FLOPs += k * p.TotalFLOPs()
		w.Bytes += k * float64(p.TotalBytes())
		pc, pr := p.Floor(flops, bandwidth)
		c += k * pc.Seconds()
		r += k * pr.Seconds()
	}
	w.Compute, w.Roofline = seconds(c), seconds(r)
	return w
}

// TotalFLOPs is the run's counted FLOPs; TotalBytes the bytes its nodes
// read and wrote.
func (p *Placement) TotalFLOPs() float64 { return sum(p.FLOPs) }

func (p *Placement) TotalBytes() int64 { return sum(p.Bytes) }

// workString is "work 17.7 TFLOP (MatMul 97%), 48.2 GB moved (MatMul 31%
// Mul 18% Softmax 12%)": what one run computes and moves, and which
// operator types do it.
func (p *Placement) workString() string {
	f, b := p.TotalFLOPs(), p.TotalBytes()
	if b == 0 {
		return ""
	}
	s := "work "
	if f > 0 {
		s += si(f, "FLOP") + " (" + shares(p.FLOPs, 3, 0.005, false) + "), "
	}
	return s + si(float64(b), "B") + " moved (" + shares(p.Bytes, 4, 0.005, false) + ")"
}

// shares names the n largest entries of m with their share of the total,
// "MatMul 61% Softmax 18%", leaving out those under min of the total; with
// more, the count of the entries past n follows ("+7 more types").
func shares[V ~int64 | ~float64](m map[string]V, n int, min float64, more bool) string {
	total := float64(sum(m))
	if total <= 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	var parts []string
	for i, k := range keys {
		if i == n {
			if more {
				parts = append(parts, fmt.Sprintf("+%d more types", len(keys)-i))
			}
			break
		}
		if float64(m[k]) < min*total {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(m[k])/total))
	}
	return strings.Join(parts, " ")
}

// si writes v with a decimal prefix: "17.7 TFLOP", "48.2 GB", "512 B".
func si(v float64, unit string) string {
	for _, p := range []struct {
		f float64
		s string
	}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= p.f {
			return fmt.Sprintf("%.3g %s%s", v/p.f, p.s, unit)
		}
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

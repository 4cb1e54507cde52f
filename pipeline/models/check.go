package models

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// Status grades a Finding.
type Status string

// Finding statuses.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Finding is what CheckFile learned about one file.
type Finding struct {
	Path    string
	Stage   string // the stage it fits, or the nearest one for a failure; "" if none
	Status  Status
	Message string
}

// externalData reports whether a file name looks like an ONNX external-data
// file (weights stored beside the graph).
func externalData(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".onnx_data") || strings.HasSuffix(n, ".onnx.data") ||
		strings.HasSuffix(n, ".data") || strings.HasSuffix(n, "_data")
}

// CheckDir checks every file under dir: .onnx files against every stage,
// external-data files are noted, anything else is a warning. Findings come
// in path order. A dir that cannot be read is an error; a bad file is a
// Finding.
func CheckDir(ctx context.Context, rt *ort.Runtime, dir string) ([]Finding, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("models check %s: %w", dir, err)
	}
	if !fi.IsDir() {
		f, err := CheckFile(ctx, rt, dir)
		if err != nil {
			return nil, err
		}
		return []Finding{f}, nil
	}
	var found []Finding
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			found = append(found, Finding{Path: path, Status: Fail, Message: err.Error()})
			if d != nil && d.IsDir() && path != dir {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path == dir || !strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			return fs.SkipDir
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case strings.EqualFold(filepath.Ext(path), ".onnx"):
			f, err := CheckFile(ctx, rt, path)
			if err != nil {
				return err
			}
			found = append(found, f)
		case externalData(d.Name()):
			found = append(found, Finding{Path: path, Status: OK, Message: "external weights of a model beside it (loaded with it, not checked alone)"})
		default:
			found = append(found, Finding{Path: path, Status: Warn, Message: "not an ONNX model (.onnx); ignored"})
		}
		return nil
	})
	if err != nil {
		return found, fmt.Errorf("models check %s: %w", dir, err)
	}
	return found, nil
}

// CheckFile says which stage the model at path fits. It returns an error
// only for a cancelled ctx or a missing runtime; everything wrong with the
// file itself is a Fail finding.
func CheckFile(ctx context.Context, rt *ort.Runtime, path string) (Finding, error) {
	if err := ctx.Err(); err != nil {
		return Finding{}, err
	}
	if rt == nil {
		return Finding{}, errors.New("models check: no ONNX Runtime (ort.Init)")
	}
	sig, err := rt.Inspect(path)
	if err != nil {
		return Finding{Path: path, Status: Fail, Message: err.Error()}, nil
	}
	type result struct {
		stage Stage
		probs []string
		loose []string // dimensions the stage fixes that the model leaves dynamic
	}
	var fits, misses []result
	for _, st := range Specs {
		r := result{stage: st, probs: sig.Mismatches(st.Spec)}
		if len(r.probs) == 0 {
			r.loose = loose(sig, st.Spec)
			fits = append(fits, r)
		} else {
			misses = append(misses, r)
		}
	}
	if len(fits) > 0 {
		// The strictest fit first: fewest dimensions left to the model.
		slices.SortStableFunc(fits, func(a, b result) int { return len(a.loose) - len(b.loose) })
		best := fits[0]
		f := Finding{Path: path, Stage: best.stage.Name, Status: OK,
			Message: fmt.Sprintf("fits %s: %s (%s)", best.stage.Name, best.stage.About, best.stage.Source)}
		if len(best.loose) > 0 {
			f.Status = Warn
			f.Message += "; the model leaves dynamic what the stage fixes: " + strings.Join(best.loose, ", ") + " (fine if it accepts those sizes)"
		}
		if len(fits) > 1 {
			var also []string
			for _, r := range fits[1:] {
				also = append(also, r.stage.Name)
			}
			f.Message += "; also fits " + strings.Join(also, ", ")
		}
		if sig.RandomWeights() {
			f.Status = Warn // fine for timing, not for mining
			f.Message += fmt.Sprintf("; its weights are random (%s=%s): good for timing, its outputs are noise", ort.WeightsKey, ort.RandomWeights)
		}
		return f, nil
	}
	// Nearest stage: the one sharing the most tensor names, then the fewest
	// problems.
	slices.SortStableFunc(misses, func(a, b result) int {
		if d := shared(sig, b.stage.Spec) - shared(sig, a.stage.Spec); d != 0 {
			return d
		}
		return len(a.probs) - len(b.probs)
	})
	near := misses[0]
	if shared(sig, near.stage.Spec) == 0 {
		var ins []string
		for _, t := range sig.Inputs {
			ins = append(ins, t.String())
		}
		return Finding{Path: path, Status: Fail,
			Message: "fits no stage; its inputs are " + strings.Join(ins, ", ")}, nil
	}
	return Finding{Path: path, Stage: near.stage.Name, Status: Fail,
		Message: fmt.Sprintf("nearest stage %s (%s) does not fit: %s", near.stage.Name, near.stage.Source, strings.Join(near.probs, "; "))}, nil
}

// shared counts the Spec's tensor names the model has.
func shared(sig *ort.Signature, spec ort.Spec) int {
	n := 0
	for _, w := range spec.Inputs {
		n += count(sig.Inputs, w.Name)
	}
	for _, w := range spec.Outputs {
		n += count(sig.Outputs, w.Name)
	}
	return n
}

func count(ts []ort.Tensor, name string) int {
	if slices.ContainsFunc(ts, func(t ort.Tensor) bool { return t.Name == name }) {
		return 1
	}
	return 0
}

// loose lists "input[d]=N" for every dimension the spec fixes and the model
// leaves dynamic.
func loose(sig *ort.Signature, spec ort.Spec) []string {
	var out []string
	walk := func(kind string, have, want []ort.Tensor) {
		for _, w := range want {
			i := slices.IndexFunc(have, func(t ort.Tensor) bool { return t.Name == w.Name })
			if i < 0 || len(have[i].Shape) != len(w.Shape) {
				continue
			}
			for d, v := range w.Shape {
				if v >= 0 && have[i].Shape[d] < 0 {
					out = append(out, fmt.Sprintf("%s %s[%d]=%d", kind, w.Name, d, v))
				}
			}
		}
	}
	walk("input", sig.Inputs, spec.Inputs)
	walk("output", sig.Outputs, spec.Outputs)
	return out
}

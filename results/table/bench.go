package table

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// KeyValue is one configuration line of a benchmark file ("goos: linux")
// or one name part of a benchmark line ("/steps=4").
type KeyValue struct {
	Key, Value string
}

// Metric is one "value unit" pair of a benchmark line.
type Metric struct {
	Value float64
	// Unit has no spaces: "ns/op", "p90-ns/op", "views/s", "B/op".
	Unit string
}

// BenchLine is one result line of the Go benchmark format:
//
//	BenchmarkName/key=value/key=value-procs iters value unit value unit...
type BenchLine struct {
	// Name is the benchmark name without the "Benchmark" prefix.
	Name string
	// Params become "/key=value" name parts, in order; benchstat can
	// group and filter on them (-col /steps).
	Params []KeyValue
	// Procs is the "-N" suffix (GOMAXPROCS in go test); it is always
	// written, so a name that ends in digits is never misread.
	Procs int
	// Iters is the iteration count the metrics average over (>= 1).
	Iters int
	// Metrics are the measurements; at least one.
	Metrics []Metric
}

// BenchFile is a whole benchmark file: configuration lines, unit
// metadata, result lines.
type BenchFile struct {
	// Config lines come first: goos, goarch, cpu, pkg and any others
	// (device, ort, commit). Keys must be lower case without spaces.
	Config []KeyValue
	// Better gives "better=higher|lower" unit metadata for units that
	// benchstat cannot guess (views/s: higher), written as "Unit" lines.
	Better map[string]string
	Lines  []BenchLine
}

// BenchConfig returns the standard header that go test writes: goos,
// goarch, cpu and pkg.
func BenchConfig(cpu, pkg string) []KeyValue {
	return []KeyValue{{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH}, {"cpu", cpu}, {"pkg", pkg}}
}

// WriteBench writes f in the Go benchmark format (golang.org/x/perf
// benchfmt) so that benchstat reads it unchanged. Values that would break
// the format (spaces or "/" in name parts, spaces in units, NaN metrics)
// are errors or are sanitised as documented on each field.
func WriteBench(w io.Writer, f BenchFile) error {
	bw := bufio.NewWriter(w)
	for _, kv := range f.Config {
		if err := checkConfigKey(kv.Key); err != nil {
			return err
		}
		fmt.Fprintf(bw, "%s: %s\n", kv.Key, oneLine(kv.Value))
	}
	units := make([]string, 0, len(f.Better))
	for u := range f.Better {
		units = append(units, u)
	}
	slices.Sort(units)
	for _, u := range units {
		b := f.Better[u]
		if b != "higher" && b != "lower" {
			return fmt.Errorf("bench unit %q: better=%q, want higher or lower", u, b)
		}
		if err := checkUnit(u); err != nil {
			return err
		}
		fmt.Fprintf(bw, "Unit %s better=%s\n", u, b)
	}
	for i, l := range f.Lines {
		line, err := formatBenchLine(l)
		if err != nil {
			return fmt.Errorf("bench line %d (%s): %w", i+1, l.Name, err)
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func formatBenchLine(l BenchLine) (string, error) {
	if l.Iters < 1 {
		return "", fmt.Errorf("iteration count %d, want >= 1", l.Iters)
	}
	if len(l.Metrics) == 0 {
		return "", fmt.Errorf("no metrics")
	}
	procs := l.Procs
	if procs < 1 {
		procs = 1
	}
	var b strings.Builder
	b.WriteString("Benchmark")
	name := namePart(l.Name)
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	// benchfmt only treats a line as a result if the name does not
	// start with a lower-case letter.
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	b.WriteString(string(r))
	for _, p := range l.Params {
		key := strings.ReplaceAll(namePart(p.Key), "=", "_")
		if key == "" {
			return "", fmt.Errorf("empty parameter key")
		}
		b.WriteString("/" + key + "=" + namePart(p.Value))
	}
	fmt.Fprintf(&b, "-%d %d", procs, l.Iters)
	for _, m := range l.Metrics {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return "", fmt.Errorf("metric %s: %v is not a finite number", m.Unit, m.Value)
		}
		if err := checkUnit(m.Unit); err != nil {
			return "", err
		}
		b.WriteString(" " + formatMetric(m.Value) + " " + m.Unit)
	}
	return b.String(), nil
}

// namePart makes s safe inside a benchmark name: no whitespace (it ends
// the name) and no "/" (it separates parts); both become "_".
func namePart(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '/' {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
}

func checkUnit(u string) error {
	if u == "" || strings.IndexFunc(u, unicode.IsSpace) >= 0 {
		return fmt.Errorf("unit %q: must be non-empty without spaces", u)
	}
	return nil
}

// checkConfigKey applies benchfmt's rule: a key starts with a lower-case
// letter and has no spaces or upper-case letters.
func checkConfigKey(k string) error {
	for i, r := range k {
		if (i == 0 && !unicode.IsLower(r)) || unicode.IsSpace(r) || unicode.IsUpper(r) || r == ':' {
			return fmt.Errorf("bench config key %q: must start lower-case and have no spaces, colons or upper case", k)
		}
	}
	if k == "" {
		return fmt.Errorf("bench config key: empty")
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// formatMetric writes plain decimals in the range people read, and
// exponent form only for extreme magnitudes.
func formatMetric(v float64) string {
	a := math.Abs(v)
	if a != 0 && (a >= 1e15 || a < 1e-6) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

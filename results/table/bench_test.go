package table

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

func sampleBench() BenchFile {
	return BenchFile{
		Config: append(BenchConfig("AMD EPYC 9654 96-Core Processor", "github.com/splatbench/splatbench/pipeline"),
			KeyValue{"device", "NVIDIA H100 80GB HBM3"}, KeyValue{"ort", "1.30.0"}),
		Better: map[string]string{"views/s": "higher", "p90-ns/op": "lower"},
		Lines: []BenchLine{
			{
				Name:   "Stage",
				Params: []KeyValue{{"stage", "fit"}, {"iters", "1000"}, {"device", "cuda:0"}},
				Procs:  16, Iters: 20,
				Metrics: []Metric{{1.234e9, "ns/op"}, {1.5e9, "p90-ns/op"}, {812.5, "views/s"}, {3 << 30, "peak-B"}},
			},
			{
				Name:   "pipeline",
				Params: []KeyValue{{"prompt set", "default"}, {"model", "isnet/small"}},
				Iters:  1, Metrics: []Metric{{0.0000000021, "sec/op"}},
			},
		},
	}
}

func TestWriteBenchGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	f := sampleBench()
	f.Config[0].Value, f.Config[1].Value = "linux", "amd64" // keep the golden file host-independent
	if err := WriteBench(&buf, f); err != nil {
		t.Fatal(err)
	}
	golden(t, "bench.txt", buf.Bytes())
	checkBenchFormat(t, buf.String())
}

// checkBenchFormat applies the benchfmt grammar to every line: config
// lines "key: value", "Unit" lines, and result lines "BenchmarkName-P N
// (value unit)+" whose values parse as floats.
func checkBenchFormat(t *testing.T, s string) {
	t.Helper()
	for n, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 || len(f)%2 != 0 {
				t.Errorf("line %d: %d fields: %q", n+1, len(f), line)
				continue
			}
			if c := f[0][len("Benchmark")]; c >= 'a' && c <= 'z' {
				t.Errorf("line %d: name starts lower case: %q", n+1, f[0])
			}
			dash := strings.LastIndexByte(f[0], '-')
			if _, err := strconv.Atoi(f[0][dash+1:]); dash < 0 || err != nil {
				t.Errorf("line %d: no -procs suffix: %q", n+1, f[0])
			}
			if _, err := strconv.Atoi(f[1]); err != nil {
				t.Errorf("line %d: iterations %q", n+1, f[1])
			}
			for i := 2; i < len(f); i += 2 {
				if _, err := strconv.ParseFloat(f[i], 64); err != nil {
					t.Errorf("line %d: value %q: %v", n+1, f[i], err)
				}
			}
		case strings.HasPrefix(line, "Unit "):
			if len(strings.Fields(line)) != 3 {
				t.Errorf("line %d: unit line %q", n+1, line)
			}
		default:
			k, _, ok := strings.Cut(line, ": ")
			if !ok || checkConfigKey(k) != nil {
				t.Errorf("line %d: not a config line: %q", n+1, line)
			}
		}
	}
}

func TestWriteBenchErrors(t *testing.T) {
	t.Parallel()
	ok := BenchLine{Name: "X", Iters: 1, Metrics: []Metric{{1, "ns/op"}}}
	tests := []struct {
		name string
		f    BenchFile
		want string
	}{
		{"upper config key", BenchFile{Config: []KeyValue{{"GOOS", "x"}}}, `"GOOS"`},
		{"config key with space", BenchFile{Config: []KeyValue{{"go os", "x"}}}, `"go os"`},
		{"bad better", BenchFile{Better: map[string]string{"x/s": "more"}}, `better="more"`},
		{"zero iters", BenchFile{Lines: []BenchLine{{Name: "X", Metrics: ok.Metrics}}}, "iteration count 0"},
		{"no metrics", BenchFile{Lines: []BenchLine{{Name: "X", Iters: 1}}}, "no metrics"},
		{"NaN", BenchFile{Lines: []BenchLine{{Name: "X", Iters: 1, Metrics: []Metric{{math.NaN(), "ns/op"}}}}}, "not a finite number"},
		{"unit space", BenchFile{Lines: []BenchLine{{Name: "X", Iters: 1, Metrics: []Metric{{1, "ns / op"}}}}}, `unit "ns / op"`},
		{"empty name", BenchFile{Lines: []BenchLine{ok, {Name: " ", Iters: 1, Metrics: ok.Metrics}}}, "bench line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := WriteBench(&bytes.Buffer{}, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

func BenchmarkWriteBench(b *testing.B) {
	f := sampleBench()
	for i := range 200 {
		l := f.Lines[0]
		l.Params = append([]KeyValue{{"trial", strconv.Itoa(i)}}, l.Params...)
		f.Lines = append(f.Lines, l)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteBench(&buf, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(f.Lines))/b.Elapsed().Seconds(), "lines/s")
}

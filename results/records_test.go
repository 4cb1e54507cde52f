package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleRecord(id string) Record {
	yes := true
	return Record{
		ID:     id,
		Kind:   KindTrial,
		Params: map[string]any{"flux.steps": 4.0, "matte.model": "isnet"},
		Prompt: "a red cube",
		Seed:   42,
		Repeat: 1,
		Stages: []StageTiming{
			{Name: "text2img", Seconds: 1.25, DeviceSeconds: 1.2, PeakBytes: 1 << 30, Device: "cuda:0"},
			{Name: "fit", Seconds: 3.5, Device: "cpu"},
		},
		TotalSeconds: 4.75,
		Scores:       map[string]float64{"clip": 0.31},
		ScoreKind:    "clip",
		Accepted:     &yes,
		Started:      time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC),
	}
}

func TestWriterReaderRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), TrialsFile)
	w, err := OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{sampleRecord("a"), sampleRecord("b"), {ID: "c", Kind: KindJob, Error: "fit: out of memory"}}
	for _, rec := range want {
		if err := w.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(want[0]); err == nil {
		t.Error("Append after Close succeeded")
	}
	got, warns, err := ReadAll(path)
	if err != nil || len(warns) != 0 {
		t.Fatalf("ReadAll: err %v, warnings %v", err, warns)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriterRejectsInvalid(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf, "mem")
	for _, rec := range []Record{{Kind: KindTrial}, {ID: "x", Kind: "nonsense"}, {ID: "x", Kind: KindBench, TotalSeconds: -1}} {
		if err := w.Append(rec); err == nil {
			t.Errorf("Append(%+v) succeeded", rec)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("invalid records were written: %q", buf.String())
	}
}

func TestWriterConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), TrialsFile)
	w, err := OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 25
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				if err := w.Append(sampleRecord(fmt.Sprintf("g%d-%d", g, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, warns, err := ReadAll(path)
	if err != nil || len(warns) != 0 {
		t.Fatalf("ReadAll: err %v, warnings %v", err, warns)
	}
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.ID] = true
	}
	if len(got) != workers*each || len(seen) != workers*each {
		t.Errorf("got %d records, %d distinct, want %d", len(got), len(seen), workers*each)
	}
}

// A killed run leaves a partial last line; reopening must keep the finished
// records, report the partial line and keep new records readable.
func TestResumeAfterTruncatedLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), TrialsFile)
	w, err := OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(sampleRecord("done")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"half","kind":"tri`)
	f.Close()

	recs, warns, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || len(warns) != 1 {
		t.Fatalf("before resume: %d records, warnings %v; want 1 and 1", len(recs), warns)
	}
	var se *SyntaxError
	if !errors.As(warns[0], &se) || se.Line != 2 || se.File != path {
		t.Errorf("warning = %#v, want *SyntaxError at %s:2", warns[0], path)
	}

	w, err = OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(sampleRecord("next")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	recs, warns, err = ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"done", "next"}, ids); diff != "" || len(warns) != 1 {
		t.Errorf("after resume: ids diff %s, warnings %v", diff, warns)
	}
}

func TestReaderSyntaxErrors(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		`{"id":"a","kind":"trial","seed":1,"repeat":0,"total_seconds":1,"started":"2026-11-25T20:30:00Z"}`,
		``,
		`not json`,
		`{"id":"","kind":"trial"}`,
		`{"id":"b","kind":"warp"}`,
		`{"id":"c","kind":"bench","seed":"x"}`,
		`{"id":"d","kind":"job"} {"id":"e"}`,
		`   {"id":"f","kind":"job","future_field":[1,2]}   `,
		`{"id":"g","kind":"bench","total_seconds":-3}`,
		`{"id":"h","kind":"trial"`, // truncated last line, no newline
	}, "\n")
	r := NewReader(strings.NewReader(input), "t.jsonl")
	var ids []string
	var lines []int
	for r.Scan() {
		rec, err := r.Record()
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("t.jsonl:%d: ", se.Line)) {
				t.Errorf("error text %q does not start with file:line", err)
			}
			lines = append(lines, se.Line)
			continue
		}
		ids = append(ids, rec.ID)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}
	if diff := cmp.Diff([]string{"a", "f"}, ids); diff != "" {
		t.Errorf("good records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 4, 5, 6, 7, 9, 10}, lines); diff != "" {
		t.Errorf("syntax error lines (-want +got):\n%s", diff)
	}
}

func TestReaderLongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 16 MiB line")
	}
	t.Parallel()
	long := `{"id":"x","kind":"job","prompt":"` + strings.Repeat("a", MaxLineBytes) + `"}`
	input := long + "\n" + `{"id":"y","kind":"job"}` + "\n"
	recs, warns := readAllString(t, input)
	if len(recs) != 1 || recs[0].ID != "y" || len(warns) != 1 || !errors.Is(warns[0], errLineTooLong) {
		t.Errorf("got %d records, warnings %v; want record y and one too-long warning", len(recs), warns)
	}
}

func readAllString(t testing.TB, s string) ([]Record, []error) {
	t.Helper()
	r := NewReader(strings.NewReader(s), "in")
	var recs []Record
	var warns []error
	for r.Scan() {
		rec, err := r.Record()
		if err != nil {
			warns = append(warns, err)
			continue
		}
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, warns
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReaderIOError(t *testing.T) {
	t.Parallel()
	r := NewReader(failingReader{}, "f")
	if r.Scan() {
		t.Fatal("Scan succeeded on a failing reader")
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Err = %v", err)
	}
}

func TestReadAllMissing(t *testing.T) {
	t.Parallel()
	_, _, err := ReadAll(filepath.Join(t.TempDir(), "nope.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadAll(missing) = %v, want ErrNotExist", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"id":"a","kind":"trial"}` + "\n"))
	f.Add([]byte(`{"id":"a","kind":"trial","stages":[{"name":"fit","seconds":1}]}`))
	f.Add([]byte("\n\n{\n"))
	f.Add([]byte(`{"id":"a","kind":"job","params":{"x":[1,{"y":null}]},"accepted":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		lines := bytes.Count(data, []byte{'\n'}) + 1
		n := 0
		for r.Scan() {
			n++
			rec, err := r.Record()
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Line < 1 || se.Line > lines {
					t.Fatalf("bad error %v", err)
				}
				continue
			}
			if err := rec.Validate(); err != nil {
				t.Fatalf("Reader returned an invalid record: %v", err)
			}
			// Whatever was read must survive a write/read round trip.
			var buf bytes.Buffer
			if err := NewWriter(&buf, "b").Append(rec); err != nil {
				t.Fatalf("re-append: %v", err)
			}
			again, warns := readAllString(t, buf.String())
			if len(again) != 1 || len(warns) != 0 {
				t.Fatalf("round trip: %d records, %v", len(again), warns)
			}
		}
		if n > lines {
			t.Fatalf("%d items from %d lines", n, lines)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkWriterAppend(b *testing.B) {
	w, err := OpenWriter(filepath.Join(b.TempDir(), TrialsFile))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rec := sampleRecord("bench")
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf, "mem")
	const n = 1000
	for i := range n {
		if err := w.Append(sampleRecord(fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "mem")
		for r.Scan() {
			if _, err := r.Record(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

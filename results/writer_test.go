package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

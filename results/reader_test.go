package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

package orchestrator

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testConfig(base string, stems ...string) Config {
	cfg := DefaultConfig()
	cfg.Pod = base
	cfg.PollInterval = 5 * time.Millisecond
	cfg.RequestTimeout = 2 * time.Second
	cfg.WarmupTimeout = 5 * time.Second
	cfg.BatchTimeout = 5 * time.Second
	for _, st := range stems {
		cfg.Prompts = append(cfg.Prompts, PromptImage{Stem: st})
	}
	return cfg
}

func zipOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakePod is the far side of the orchestrator: a pod that is complete at
// once and answers /results with a fixed archive, or misbehaves as told.
func fakePod(t *testing.T, status func() (int, string), results []byte) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		code, body := status()
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	})
	mux.HandleFunc("POST /generate", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Prompts []promptJSON }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, `{"accepted": %d}`, len(req.Prompts))
	})
	mux.HandleFunc("GET /results", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(results) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func complete() (int, string) {
	return 200, `{"status":"complete","progress":3,"total":3,"payload":null}`
}

// TestAccounting: a stem in both places, in neither, and entries that
// belong to no stem are all caught.
func TestAccounting(t *testing.T) {
	data := zipOf(t, map[string]string{
		"a.js": "x", "b.js": "y", "zz.js": "stray", "notes.txt": "?",
		"_failed.json": `{"b": "twice", "ghost": "not ours"}`,
	})
	base := fakePod(t, complete, data)
	rep, err := Run(context.Background(), testConfig(base, "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rep.Prompts {
		got[p.Stem] = p.Outcome
	}
	want := map[string]string{"a": OutcomeReturned, "b": OutcomeDuplicate, "c": OutcomeMissing}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"zz.js", "notes.txt", "_failed.json:ghost"}, rep.Batches[0].Unexpected,
		cmp.Transformer("sort", func(s []string) map[string]bool {
			m := map[string]bool{}
			for _, v := range s {
				m[v] = true
			}
			return m
		})); diff != "" {
		t.Errorf("unexpected entries (-want +got):\n%s", diff)
	}
	if rep.Accounted() || rep.Counts.Failed != 2 {
		t.Errorf("Accounted %v, counts %+v", rep.Accounted(), rep.Counts)
	}
}

func TestPodDeadOrReplacing(t *testing.T) {
	var polls atomic.Int32
	tests := []struct {
		name   string
		status func() (int, string)
		want   string
	}{
		{"500s", func() (int, string) { return 500, "" }, "failed 6 times in a row"},
		{"garbage", func() (int, string) { return 200, "{" }, "failed 6 times in a row"},
		{"unknown status", func() (int, string) { return 200, `{"status":"sleeping"}` }, "unknown status"},
		{"replace", func() (int, string) { return 200, `{"status":"replace","payload":{"all_passed":false}}` }, "asked to be replaced"},
		{"flaky then complete", func() (int, string) {
			if polls.Add(1)%3 != 0 {
				return 503, ""
			}
			return complete()
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := fakePod(t, tc.status, zipOf(t, map[string]string{"a.js": "x"}))
			_, err := Run(context.Background(), testConfig(base, "a"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.name == "replace" && !errors.Is(err, ErrReplace) {
				t.Fatalf("%v does not wrap ErrReplace", err)
			}
		})
	}
}

package jobs

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeJob: whatever arrives on the jobs subject, decoding returns a
// job with an id and a known kind, or an ErrBadMessage; it never panics.
func FuzzDecodeJob(f *testing.F) {
	good, _ := json.Marshal(Job{ID: "trial/run/p|q|r0", Kind: KindTrial, Seed: 3, Prompt: Prompt{Text: "a red cube", Image: []byte{1, 2}}})
	for _, s := range []string{string(good), `{"id":"x","kind":"generate"}`, `{"id":"","kind":"trial"}`,
		`{"id":"x","kind":"bake"}`, `{"id":"x","kind":"trial","deadline":"yesterday"}`, `[]`, ``, `{"profile":{"fit":{"iterations":"many"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJob("splat.jobs.trial", data)
		if err != nil {
			return
		}
		if j.ID == "" || (j.Kind != KindTrial && j.Kind != KindGenerate) {
			t.Fatalf("accepted a job with id %q, kind %q", j.ID, j.Kind)
		}
	})
}

// FuzzDecodeResult: a result is accepted only with a job id.
func FuzzDecodeResult(f *testing.F) {
	good, _ := json.Marshal(Result{JobID: "j", Worker: "w", Output: []byte("spz"), Scores: map[string]float64{"score": 0.7}})
	for _, s := range []string{string(good), `{"job_id":""}`, `{"job_id":"j","total_seconds":"x"}`, `null`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeResult("splat.results.x", data)
		if err == nil && r.JobID == "" {
			t.Fatal("accepted a result without a job id")
		}
	})
}

// FuzzCheckClient: the URL policy never panics, and never lets a
// plaintext URL off loopback through without Insecure.
func FuzzCheckClient(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222", "tls://u:p@10.0.0.1:4222", "nats://a,nats://b", "::::", "http://x", "nats://[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, urls string) {
		_ = checkClient(urls, Security{})
	})
}

package orchestrator

import (
	"testing"
)

// FuzzAccount: whatever a pod sends as its results archive, accounting
// errors out or puts every stem in exactly one outcome; it never panics.
func FuzzAccount(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"a.js": "x", "_failed.json": `{"b": "r"}`}))
	f.Add(zipOf(f, map[string]string{"a.js": "x", "b.js": "y", "_failed.json": `{"b": "r", "z": "q"}`}))
	f.Add(zipOf(f, map[string]string{"_failed.json": `[1,2]`}))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add([]byte("not a zip"))
	prompts := []PromptImage{{Stem: "a"}, {Stem: "b"}, {Stem: "c"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := &orch{}
		rep := &Report{}
		var br BatchReport
		mods, err := o.account(data, prompts, 0, rep, &br)
		if err != nil {
			return
		}
		if len(rep.Prompts) != len(prompts) || len(mods) != br.Modules ||
			br.Modules+br.PodFailed+br.Missing+br.Duplicates != len(prompts) {
			t.Fatalf("accounting: %d records, %d modules, batch %+v", len(rep.Prompts), len(mods), br)
		}
	})
}

package pod

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzGenerate: any POST /generate body gets 200, 400, 409 or 413, never a
// panic, and a batch that is accepted has valid, distinct stems.
func FuzzGenerate(f *testing.F) {
	for _, seed := range []string{
		`{"prompts":[{"stem":"a1b2c3d4","image_url":"http://127.0.0.1:1/a.png"}],"seed":42}`,
		`{"prompts":[{"stem":"a","image_url":"x"},{"stem":"a","image_url":"y"}]}`,
		`{"prompts":[{"stem":"../../etc","image_url":"http://h/"}]}`,
		`{"prompts":null}`, `[]`, `{`, `{"prompts":[{}]}`, `{"seed":"x"}`,
	} {
		f.Add(seed)
	}
	opts := testOptions()
	opts.DownloadAttempts = 1
	f.Fuzz(func(t *testing.T, body string) {
		s, err := New(opts, []Generator{moduleGen(nil)}, discard())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.SetReady(nil)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/generate", strings.NewReader(body))
		s.Handler().ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 409, 413:
		default:
			t.Fatalf("code %d for %q", w.Code, body)
		}
		if w.Code == 200 {
			s.mu.Lock()
			b := s.cur
			s.mu.Unlock()
			seen := map[string]bool{}
			for _, p := range b.prompts {
				if !stemRE.MatchString(p.Stem) || seen[p.Stem] {
					t.Fatalf("accepted stem %q", p.Stem)
				}
				seen[p.Stem] = true
			}
		}
	})
}

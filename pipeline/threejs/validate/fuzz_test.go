package validate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// knownRules are the codes the static checks may report.
var knownRules = map[string]bool{
	FileSizeExceeded: true, ParseError: true, MissingDefaultExport: true, MultipleTopLevelExports: true,
	AsyncNotAllowed: true, IdentifierNotAllowed: true, ForbiddenIdentifier: true, ForbiddenThreeAPI: true,
	UnknownThreeAPI: true, ThreeAliasForbidden: true, ThreeAtTopLevel: true, ComputedPropertyAccess: true,
	LiteralBudgetExceeded: true,
}

// FuzzStatic: any input gets an answer (never a checker error), only known
// rule codes, and the same answer twice.
func FuzzStatic(f *testing.F) {
	for _, dir := range []string{"testdata/pass", "testdata/fail"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.js"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("export default function generate(THREE) { return (((((((((((1))))))))))); }"))
	f.Add([]byte("\xff\xfe export default 1"))
	v := testValidator(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		r, err := v.Static(context.Background(), src)
		if err != nil {
			t.Fatalf("checker error: %v", err)
		}
		for _, fl := range r.Failures {
			if !knownRules[fl.Rule] {
				t.Fatalf("unknown rule %q (%v)", fl.Rule, fl)
			}
		}
		r2, err := v.Static(context.Background(), src)
		if err != nil || r2.OK() != r.OK() || r2.LiteralBytes != r.LiteralBytes {
			t.Fatalf("second answer differs: %+v vs %+v (%v)", r2, r, err)
		}
	})
}

package atomicfile

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// scratchWriters may write files directly: they write only inside a
// temporary directory of their own, which no reader shares.
var scratchWriters = map[string]bool{
	"pipeline/threejs/validate/validate.go": true, // the checker's scripts and the module under test
	"pipeline/ort/onnxtest/onnxtest.go":     true, // tiny test models in a test's directory
}

// TestEveryWriterIsAtomic: no non-test file of the module replaces a file
// with os.WriteFile, os.Create or os.Rename; they go through this package.
// (Appending logs with os.OpenFile and scratch files from os.CreateTemp
// are not replacing a file, and are not flagged.)
func TestEveryWriterIsAtomic(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{"WriteFile": true, "Create": true, "Rename": true}
	fset := token.NewFileSet()
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || scratchWriters[filepath.ToSlash(rel)] {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil // a file being edited; the build catches it
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && banned[sel.Sel.Name] {
				found = append(found, fset.Position(sel.Pos()).String()+": os."+sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: write files with atomicfile.WriteFile or WriteWith", strings.TrimPrefix(f, root+string(filepath.Separator)))
	}
}

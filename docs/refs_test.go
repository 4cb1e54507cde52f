// Package docs holds the project's documentation; its test checks that the
// code's citations of it resolve.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sourceFiles returns the repository's text files that may cite the docs
// (code, kernels, scripts, docs), relative to the root, with their text.
func sourceFiles(t *testing.T) map[string]string {
	t.Helper()
	exts := map[string]bool{".go": true, ".cu": true, ".cuh": true, ".md": true, ".sh": true, ".py": true, ".mjs": true, ".yaml": true}
	out := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != ".." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules" || n == "runs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !exts[filepath.Ext(path)] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCitationsResolve: every "docs/protocol.md §N" or "docs/algorithms.md
// §N" in the code names a section the document has, and nothing cites the
// reference documents the project was researched from, which are not in
// the repository.
func TestCitationsResolve(t *testing.T) {
	t.Parallel()
	heading := regexp.MustCompile(`(?m)^#{2,3} (§[0-9.]+) `)
	sections := map[string]map[string]bool{}
	for _, doc := range []string{"protocol.md", "algorithms.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		sections["docs/"+doc] = map[string]bool{}
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			sections["docs/"+doc][m[1]] = true
		}
	}
	cite := regexp.MustCompile(`(docs/(?:protocol|algorithms)\.md) (§[0-9]+(?:\.[0-9]+)*)`)
	outside := regexp.MustCompile(`(protocol-404gen|pipeline-algorithms|spz-format|gpu-onnxruntime|style-anchors)\.md`)
	n := 0
	for path, text := range sourceFiles(t) {
		for i, line := range strings.Split(text, "\n") {
			for _, m := range cite.FindAllStringSubmatch(line, -1) {
				n++
				if !sections[m[1]][m[2]] {
					t.Errorf("%s:%d: %s %s: no such section", path, i+1, m[1], m[2])
				}
			}
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d: cites %s, which is not in the repository; cite docs/protocol.md or docs/algorithms.md", path, i+1, m)
			}
		}
	}
	if n < 50 {
		t.Errorf("found only %d citations: the walk missed the code", n)
	}
}

// TestSetupFetchesByPackageName: the set-up scripts and the Makefile get
// everything through package-registry clients by package name, so no URL
// (and no registry host) appears in them.
func TestSetupFetchesByPackageName(t *testing.T) {
	t.Parallel()
	url := regexp.MustCompile(`(?i)\b(https?|ftp)://`)
	files, err := filepath.Glob("../scripts/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../Makefile")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if url.MatchString(line) {
				t.Errorf("%s:%d: a URL in the set-up: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

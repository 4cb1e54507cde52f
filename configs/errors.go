package configs

import (
	"errors"
	"maps"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about the content of a profile or
// sweep (syntax, unknown field, wrong type, failed validation), so callers
// can map it to an exit code with errors.Is.
var ErrInvalid = errors.New("invalid configuration")

// Position is where a value came from: a file and 1-based line and column,
// or an override such as "--set fit.iterations=200" in File.
type Position struct {
	File         string
	Line, Column int
}

// String formats the position as file:line:column, leaving out parts that
// are unknown.
func (p Position) String() string {
	parts := []string{}
	if p.File != "" {
		parts = append(parts, p.File)
	}
	if p.Line > 0 {
		parts = append(parts, strconv.Itoa(p.Line))
		if p.Column > 0 {
			parts = append(parts, strconv.Itoa(p.Column))
		}
	}
	return strings.Join(parts, ":")
}

// FieldError is one problem with one field. Its message is one line:
// "file:line:column: dotted.path: what is wrong".
type FieldError struct {
	Pos  Position
	Path string
	Msg  string

	cross bool // the problem involves another field too (see checker.cross)
}

func (e *FieldError) Error() string {
	var parts []string
	if s := e.Pos.String(); s != "" {
		parts = append(parts, s)
	}
	if e.Path != "" {
		parts = append(parts, e.Path)
	}
	return strings.Join(append(parts, e.Msg), ": ")
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// source maps dotted paths to where their values were written. It is
// shared between copies of a value, so it is never modified in place.
type source struct {
	file string
	pos  map[string]Position
}

// at returns the position of path, or of its nearest recorded parent, or
// just the file.
func (s *source) at(path string) Position {
	if s == nil {
		return Position{}
	}
	for p := path; p != ""; {
		if pos, ok := s.pos[p]; ok {
			return pos
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return Position{File: s.file}
}

// with returns a copy of s (which may be nil) recording path, and no longer
// its list items, at pos.
func (s *source) with(path string, pos Position) *source {
	n := &source{pos: map[string]Position{}}
	if s != nil {
		n.file = s.file
		maps.Copy(n.pos, s.pos)
	}
	maps.DeleteFunc(n.pos, func(k string, _ Position) bool { return strings.HasPrefix(k, path+"[") })
	n.pos[path] = pos
	return n
}

// suggest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

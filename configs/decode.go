package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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

// LoadProfile reads and parses a profile file (see ParseProfile).
func LoadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, fmt.Errorf("load profile: %w", err)
	}
	return ParseProfile(path, data)
}

// ParseProfile parses a profile YAML named name (used in error messages):
// the defaults overlaid with the document, then validated. The profile's
// name defaults to the file's base name. All problems are reported at once,
// each on one line naming file:line:column and the field; the error wraps
// ErrInvalid.
func ParseProfile(name string, data []byte) (Profile, error) {
	p := DefaultProfile()
	if name != "" {
		p.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	src, err := decodeDocument(name, data, &p)
	if err != nil {
		return Profile{}, err
	}
	p.src = src
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// LoadSweep reads and parses a sweep file (see ParseSweep).
func LoadSweep(path string) (Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Sweep{}, fmt.Errorf("load sweep: %w", err)
	}
	return ParseSweep(path, data)
}

// ParseSweep parses a sweep YAML named name like ParseProfile does. Fields
// left out take DefaultSweep's values, except knobs, which a file must list.
func ParseSweep(name string, data []byte) (Sweep, error) {
	s := DefaultSweep()
	s.Knobs = nil
	if name != "" {
		s.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	src, err := decodeDocument(name, data, &s)
	if err != nil {
		return Sweep{}, err
	}
	s.src = src
	s.normalize()
	if err := s.Validate(); err != nil {
		return Sweep{}, err
	}
	return s, nil
}

var syntaxErrRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeDocument overlays the single YAML document in data onto *out.
func decodeDocument(file string, data []byte, out any) (*source, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(file, err)
		}
		return nil, &FieldError{Pos: Position{File: file, Line: extra.Line}, Msg: "more than one YAML document"}
	}
	return decodeNode(file, &doc, reflect.ValueOf(out).Elem())
}

// decodeNode overlays a (document) node onto v and records positions.
func decodeNode(file string, n *yaml.Node, v reflect.Value) (*source, error) {
	d := &decoder{src: &source{file: file, pos: map[string]Position{}}}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return d.src, nil
		}
		n = n.Content[0]
	}
	if n.Kind != 0 {
		d.decode(n, n, v, "", 0)
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return d.src, nil
}

func syntaxError(file string, err error) error {
	if m := syntaxErrRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{Pos: Position{File: file, Line: line}, Msg: m[2]}
	}
	msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", "; ")
	return &FieldError{Pos: Position{File: file}, Msg: msg}
}

// decoder walks a yaml.Node tree alongside a Go value by reflection.
type decoder struct {
	src  *source
	errs []error
}

const maxDepth = 32

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.src.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Pos: d.pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// decode stores node n into v. at is the node that names the value in
// error messages: the mapping key, or n itself for list items.
func (d *decoder) decode(n, at *yaml.Node, v reflect.Value, path string, depth int) {
	if depth > maxDepth {
		d.fail(n, path, "nested too deeply")
		return
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.fail(n, path, "unknown alias")
			return
		}
		n = n.Alias
		if depth++; depth > maxDepth {
			d.fail(n, path, "aliases nested too deeply")
			return
		}
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct:
		d.decodeStruct(n, at, v, path, depth)
	case t.Kind() == reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		e := reflect.New(t.Elem())
		d.decode(n, at, e.Elem(), path, depth+1)
		v.Set(e)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.decodeStructList(n, at, v, path, depth)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Interface:
		d.decodeAnyList(n, at, v, path)
	default:
		d.decodeLeaf(n, at, v, path, depth)
	}
}

func (d *decoder) decodeStruct(n, at *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return // an empty section keeps its defaults
	}
	if n.Kind != yaml.MappingNode {
		d.fail(at, path, "cannot use %s as a mapping", kindName(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		p := join(path, name)
		if key.Kind != yaml.ScalarNode {
			d.fail(key, path, "mapping key must be a plain name")
			continue
		}
		if first, dup := seen[name]; dup {
			d.fail(key, p, "duplicate key (first at line %d)", first.Line)
			continue
		}
		seen[name] = key
		idx, ok := fields[name]
		if !ok {
			msg := "unknown field"
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			d.fail(key, p, "%s", msg)
			continue
		}
		d.src.pos[p] = d.pos(key)
		d.decode(val, key, v.Field(idx), p, depth+1)
	}
}

func (d *decoder) decodeStructList(n, at *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(at, path, "cannot use %s as a list", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.src.pos[p] = d.pos(item)
		d.decode(item, item, out.Index(i), p, depth+1)
	}
	if out.Len() == 0 {
		out = reflect.Zero(v.Type())
	}
	v.Set(out)
}

// decodeAnyList decodes knob values: scalars, or lists of scalars.
func (d *decoder) decodeAnyList(n, at *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(at, path, "cannot use %s as a list", kindName(n))
		return
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.src.pos[p] = d.pos(item)
		var x any
		if err := item.Decode(&x); err != nil {
			d.fail(item, p, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		if !validAnyValue(x) {
			d.fail(item, p, "cannot use %s as a knob value (want a scalar or a list of scalars)", describe(x))
			continue
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		out = nil
	}
	v.Set(reflect.ValueOf(out))
}

func validAnyValue(x any) bool {
	switch x := x.(type) {
	case string, int, int64, uint64, float64, bool:
		return true
	case []any:
		for _, e := range x {
			switch e.(type) {
			case string, int, int64, uint64, float64, bool:
			default:
				return false
			}
		}
		return true
	}
	return false
}

// decodeLeaf decodes a scalar (or, for lists, a sequence of scalars) with
// the same conversions SetValue uses.
func (d *decoder) decodeLeaf(n, at *yaml.Node, v reflect.Value, path string, depth int) {
	k := field{typ: v.Type()}.kind()
	if isNull(n) {
		v.SetZero()
		return
	}
	var x any
	switch {
	case k == kindStrings && n.Kind == yaml.SequenceNode:
		var list []string
		for i, item := range n.Content {
			for item.Kind == yaml.AliasNode && item.Alias != nil && depth < maxDepth {
				item, depth = item.Alias, depth+1
			}
			ip := fmt.Sprintf("%s[%d]", path, i)
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				d.fail(item, ip, "cannot use %s as string", kindName(item))
				return
			}
			d.src.pos[ip] = d.pos(item)
			list = append(list, item.Value)
		}
		x = list
	case k == kindStrings && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		x = []string{n.Value} // a single string is a one-element list
	case n.Kind != yaml.ScalarNode:
		d.fail(at, path, "cannot use %s as %s", kindName(n), k)
		return
	default:
		if err := n.Decode(&x); err != nil {
			d.fail(at, path, "cannot use %q as %s", n.Value, k)
			return
		}
	}
	val, err := coerce(k, x)
	if err != nil {
		d.fail(at, path, "%s", err)
		return
	}
	v.Set(reflect.ValueOf(val).Convert(v.Type()))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func reflectValue(ptr any) reflect.Value { return reflect.ValueOf(ptr).Elem() }

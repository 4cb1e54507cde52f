package configs

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// valueKind is the type family of a settable profile field.
type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindBool
	kindDuration
	kindStrings
)

func (k valueKind) String() string {
	return [...]string{"string", "int", "float", "bool", "duration", "list of strings"}[k]
}

var durationType = reflect.TypeFor[time.Duration]()

// field is one leaf of the profile, addressed by its dotted YAML path.
type field struct {
	path  string
	index []int
	typ   reflect.Type
}

func (f field) kind() valueKind {
	switch {
	case f.typ == durationType:
		return kindDuration
	case f.typ.Kind() == reflect.Slice:
		return kindStrings
	case f.typ.Kind() == reflect.Int, f.typ.Kind() == reflect.Int64:
		return kindInt
	case f.typ.Kind() == reflect.Float64:
		return kindFloat
	case f.typ.Kind() == reflect.Bool:
		return kindBool
	}
	return kindString
}

// profileFields is the table of every leaf of Profile, built once by
// reflection over the yaml tags.
var profileFields = sync.OnceValues(func() (map[string]field, []string) {
	byPath := map[string]field{}
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			name := yamlName(sf)
			if name == "" {
				continue
			}
			idx := append(slices.Clone(index), i)
			if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
				walk(sf.Type, prefix+name+".", idx)
				continue
			}
			byPath[prefix+name] = field{path: prefix + name, index: idx, typ: sf.Type}
		}
	}
	walk(reflect.TypeFor[Profile](), "", nil)
	return byPath, slices.Sorted(maps.Keys(byPath))
})

// yamlName is a struct field's YAML key, or "" for unexported or skipped
// fields.
func yamlName(sf reflect.StructField) string {
	if !sf.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// KnobPaths lists every settable profile path (dotted YAML keys), sorted.
func KnobPaths() []string {
	_, paths := profileFields()
	return slices.Clone(paths)
}

// canonicalPath maps the "flux." alias onto "text2img.".
func canonicalPath(path string) string {
	if rest, ok := strings.CutPrefix(path, "flux."); ok {
		return "text2img." + rest
	}
	return path
}

// lookupField finds the profile leaf at path (aliases allowed).
func lookupField(path string) (field, error) {
	byPath, _ := profileFields()
	f, ok := byPath[canonicalPath(path)]
	if !ok {
		msg := "unknown profile path"
		if s := suggest(canonicalPath(path), KnobPaths()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return field{}, &FieldError{Path: path, Msg: msg}
	}
	return f, nil
}

// Get returns the value at a dotted profile path as its Go type (string,
// int, int64, float64, bool, time.Duration or a copy of a []string).
func (p Profile) Get(path string) (any, error) {
	f, err := lookupField(path)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(p).FieldByIndex(f.index)
	if f.kind() == kindStrings {
		return slices.Clone(v.Interface().([]string)), nil
	}
	return v.Interface(), nil
}

// Set applies one "path=value" override, as given to --set: the value is
// parsed by the field's type (int, float, bool, string, duration, or a
// comma-separated list for lists).
func (p *Profile) Set(assignment string) error {
	path, text, ok := strings.Cut(assignment, "=")
	path = strings.TrimSpace(path)
	if !ok {
		return &FieldError{Path: path, Msg: fmt.Sprintf("override %q is not path=value", assignment)}
	}
	f, err := lookupField(path)
	if err != nil {
		return err
	}
	v, err := parseText(f.kind(), text)
	if err != nil {
		return &FieldError{Path: path, Msg: err.Error()}
	}
	p.assign(f, v, Position{File: "--set " + assignment})
	return nil
}

// SetValue sets the field at path to v, as the tuner does with a knob
// value decoded from YAML: int, int64, uint64, float64 (integral for int
// fields), string (a duration string for durations, a comma list for
// lists), bool, []string or []any of strings.
func (p *Profile) SetValue(path string, v any) error {
	f, err := lookupField(path)
	if err != nil {
		return err
	}
	rv, err := coerce(f.kind(), v)
	if err != nil {
		return &FieldError{Path: path, Msg: err.Error()}
	}
	p.assign(f, rv, Position{File: fmt.Sprintf("set %s=%v", f.path, rv)})
	return nil
}

// assign stores a converted value and records its origin (for Validate's
// messages) without touching the origin map other copies share.
func (p *Profile) assign(f field, v any, origin Position) {
	dst := reflect.ValueOf(p).Elem().FieldByIndex(f.index)
	dst.Set(reflect.ValueOf(v).Convert(f.typ))
	p.src = p.src.with(f.path, origin)
}

// parseText converts command-line text to a value of the given kind.
func parseText(k valueKind, s string) (any, error) {
	bad := func() error { return fmt.Errorf("cannot use %q as %s", s, k) }
	t := strings.TrimSpace(s)
	switch k {
	case kindString:
		return t, nil
	case kindInt:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case kindFloat:
		x, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, bad()
		}
		return x, nil
	case kindBool:
		b, err := strconv.ParseBool(t)
		if err != nil {
			return nil, bad()
		}
		return b, nil
	case kindDuration:
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, bad()
		}
		return d, nil
	}
	return splitList(s), nil
}

// splitList splits a comma list, trimming blanks; empty gives nil.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// coerce converts a YAML-decoded or tuner-supplied value to the given kind.
func coerce(k valueKind, v any) (any, error) {
	bad := func() error { return fmt.Errorf("cannot use %s as %s", describe(v), k) }
	switch k {
	case kindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kindInt:
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
		}
	case kindFloat:
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		case float64:
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x, nil
			}
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kindDuration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			if d, err := time.ParseDuration(x); err == nil {
				return d, nil
			}
		}
	case kindStrings:
		switch x := v.(type) {
		case string:
			return splitList(x), nil
		case []string:
			if len(x) == 0 {
				return []string(nil), nil
			}
			return slices.Clone(x), nil
		case []any:
			var out []string
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, bad()
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	return nil, bad()
}

// describe formats a value for an error message: strings quoted.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	case []any, []string:
		return fmt.Sprintf("list %v", x)
	case map[string]any, map[any]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}

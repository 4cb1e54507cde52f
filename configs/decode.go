package configs

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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

package tuner

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Point is one setting of the swept knobs: canonical profile path → value.
// Its ID is the canonical string of the sorted "path=value" pairs, e.g.
// "fit.iterations=300,text2img.steps=4", stable across runs and across a
// JSON round trip of the values (an integral float formats like the int).
type Point struct {
	ID     string
	Values map[string]any
}

// NewPoint builds a Point from knob values; the map is copied.
func NewPoint(values map[string]any) Point {
	v := maps.Clone(values)
	if v == nil {
		v = map[string]any{}
	}
	return Point{ID: PointID(v), Values: v}
}

// PointID is the canonical ID of a set of knob values: the pairs sorted by
// path, "path=value" joined by commas, values formatted by FormatValue.
// The empty set is "base" (the base profile unchanged).
func PointID(values map[string]any) string {
	if len(values) == 0 {
		return "base"
	}
	keys := slices.Sorted(maps.Keys(values))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(FormatValue(values[k]))
	}
	return b.String()
}

// FormatValue formats a knob value canonically: integral numbers as
// integers (so 300 and 300.0 agree), other floats in the shortest form
// that round-trips, strings bare unless they contain a separator or space
// (then Go-quoted), lists as [a;b].
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == "" || strings.ContainsAny(x, ",=;|[] \t\n\"") {
			return strconv.Quote(x)
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return formatFloat(float64(x))
	case float64:
		return formatFloat(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = FormatValue(s)
		}
		return "[" + strings.Join(parts, ";") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "[" + strings.Join(parts, ";") + "]"
	case fmt.Stringer:
		return FormatValue(x.String())
	}
	return FormatValue(fmt.Sprint(v))
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Without returns the point with the given knobs removed (and a new ID).
func (p Point) Without(paths ...string) Point {
	v := maps.Clone(p.Values)
	for _, k := range paths {
		delete(v, k)
	}
	return NewPoint(v)
}

// Float returns the point's value at path as a float64, if it is numeric.
func (p Point) Float(path string) (float64, bool) {
	return toFloat(p.Values[path])
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

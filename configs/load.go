package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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

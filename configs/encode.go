package configs

import (
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// plainProfile and plainSweep have the fields but not the methods, so the
// YAML library encodes them field by field without recursing.
type (
	plainProfile Profile
	plainSweep   Sweep
)

// MarshalYAML encodes the profile's fields; where they came from is not
// part of the encoding.
func (p Profile) MarshalYAML() (any, error) { return plainProfile(p), nil }

// UnmarshalYAML decodes a profile embedded in another YAML document with the
// same rules as ParseProfile: defaults first, unknown fields and type
// errors are errors, and the result must validate.
func (p *Profile) UnmarshalYAML(n *yaml.Node) error {
	q := DefaultProfile()
	src, err := decodeNode("", n, reflectValue(&q))
	if err != nil {
		return err
	}
	q.src = src
	if err := q.Validate(); err != nil {
		return err
	}
	*p = q
	return nil
}

// MarshalYAML encodes the sweep's fields.
func (s Sweep) MarshalYAML() (any, error) { return plainSweep(s), nil }

// UnmarshalYAML decodes a sweep embedded in another YAML document with the
// same rules as ParseSweep.
func (s *Sweep) UnmarshalYAML(n *yaml.Node) error {
	q := DefaultSweep()
	q.Knobs = nil
	src, err := decodeNode("", n, reflectValue(&q))
	if err != nil {
		return err
	}
	q.src = src
	q.normalize()
	if err := q.Validate(); err != nil {
		return err
	}
	*s = q
	return nil
}

// Encode writes the profile as a YAML document with a header comment; what
// it writes parses back (ParseProfile) to an equal profile.
func (p Profile) Encode(w io.Writer) error {
	header := fmt.Sprintf("splatbench profile %q.\nLoad it with --profile FILE; override a field with --set path=value.\nFields are documented in package configs (go doc configs.Profile).", p.Name)
	return encodeDocument(w, header, plainProfile(p))
}

// Encode writes the sweep as a YAML document with a header comment; what it
// writes parses back (ParseSweep) to an equal sweep.
func (s Sweep) Encode(w io.Writer) error {
	header := fmt.Sprintf("splatbench sweep %q.\nRun it with: splatbench tune --sweep FILE.\nFields are documented in package configs (go doc configs.Sweep).", s.Name)
	return encodeDocument(w, header, plainSweep(s))
}

func encodeDocument(w io.Writer, header string, v any) error {
	var body yaml.Node
	if err := body.Encode(v); err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{&body}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	return nil
}

package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normStep is one normaliser of a tokenizer.json normalizer Sequence.
type normStep func(string) string

// buildNormalizer interprets a tokenizer.json "normalizer" (null, one normaliser or
// a Sequence of them). field names the JSON path for errors.
func buildNormalizer(raw json.RawMessage, field string) ([]normStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := typed(raw)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	switch typ {
	case "Sequence":
		var seq struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &seq); err != nil {
			return nil, fmt.Errorf("field %s.normalizers: %w", field, err)
		}
		var steps []normStep
		for i, n := range seq.Normalizers {
			s, err := buildNormalizer(n, fmt.Sprintf("%s.normalizers[%d]", field, i))
			if err != nil {
				return nil, err
			}
			steps = append(steps, s...)
		}
		return steps, nil
	case "Precompiled":
		var p struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.Charsmap == nil {
			return nil, fmt.Errorf("field %s.precompiled_charsmap: missing or not a string", field)
		}
		if *p.Charsmap == "" { // an empty map normalises nothing
			return nil, nil
		}
		cm, err := parseCharsmap(*p.Charsmap)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", field, err)
		}
		return []normStep{cm.normalize}, nil
	case "Strip":
		var p struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("field %s: %w", field, err)
		}
		return []normStep{func(s string) string {
			if p.Left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if p.Right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}}, nil
	case "Replace":
		var p struct {
			Pattern struct {
				String *string `json:"String"`
				Regex  *string `json:"Regex"`
			} `json:"pattern"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("field %s: %w", field, err)
		}
		switch {
		case p.Pattern.String != nil:
			from, to := *p.Pattern.String, p.Content
			if from == "" {
				return nil, fmt.Errorf("field %s.pattern.String is empty", field)
			}
			return []normStep{func(s string) string { return strings.ReplaceAll(s, from, to) }}, nil
		case p.Pattern.Regex != nil:
			re, err := regexp.Compile(*p.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("field %s.pattern.Regex %q: %w", field, *p.Pattern.Regex, err)
			}
			to := p.Content
			return []normStep{func(s string) string { return re.ReplaceAllLiteralString(s, to) }}, nil
		}
		return nil, fmt.Errorf("field %s.pattern: neither String nor Regex", field)
	case "NFC":
		return []normStep{norm.NFC.String}, nil
	case "NFKC":
		return []normStep{norm.NFKC.String}, nil
	case "NFD":
		return []normStep{norm.NFD.String}, nil
	case "NFKD":
		return []normStep{norm.NFKD.String}, nil
	case "Lowercase":
		return []normStep{func(s string) string {
			var b strings.Builder
			for _, r := range s {
				lowerRune(&b, r)
			}
			return b.String()
		}}, nil
	}
	return nil, fmt.Errorf("field %s.type %q is not supported (Sequence, Precompiled, Strip, Replace, NF*, Lowercase are)", field, typ)
}

// metaspace is the Metaspace pre-tokeniser: spaces become the replacement character,
// which is prepended to the first segment (prepend_scheme "first") or every segment
// ("always"), and the text is split before each replacement character.
type metaspace struct {
	repl    string
	prepend string // "always", "first" or "never"
	split   bool
}

func buildMetaspace(raw json.RawMessage, field string) (*metaspace, error) {
	if isNull(raw) {
		return nil, fmt.Errorf("field %s is missing: a Unigram T5 tokenizer needs Metaspace", field)
	}
	typ, err := typed(raw)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	if typ == "Sequence" {
		var seq struct {
			P []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &seq); err != nil || len(seq.P) != 1 {
			return nil, fmt.Errorf("field %s: only a Sequence of one Metaspace is supported", field)
		}
		return buildMetaspace(seq.P[0], field+".pretokenizers[0]")
	}
	if typ != "Metaspace" {
		return nil, fmt.Errorf("field %s.type is %q, want \"Metaspace\"", field, typ)
	}
	var p struct {
		Replacement    string  `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	m := &metaspace{repl: p.Replacement, prepend: "always", split: true}
	if m.repl == "" {
		m.repl = "\u2581"
	}
	if p.Split != nil {
		m.split = *p.Split
	}
	switch {
	case p.PrependScheme != nil:
		m.prepend = *p.PrependScheme
	case p.AddPrefixSpace != nil && !*p.AddPrefixSpace:
		m.prepend = "never"
	}
	switch m.prepend {
	case "always", "first", "never":
	default:
		return nil, fmt.Errorf("field %s.prepend_scheme %q is not always/first/never", field, m.prepend)
	}
	return m, nil
}

// apply returns the pre-tokens of one normalised segment. first: the segment starts
// at offset 0 of the input.
func (m *metaspace) apply(s string, first bool, emit func(string)) {
	if s == "" {
		return
	}
	s = strings.ReplaceAll(s, " ", m.repl)
	if (m.prepend == "always" || (m.prepend == "first" && first)) && !strings.HasPrefix(s, m.repl) {
		s = m.repl + s
	}
	if !m.split {
		emit(s)
		return
	}
	// Split before every replacement character (it stays with what follows).
	start := 0
	for {
		i := strings.Index(s[start+1:], m.repl)
		if i < 0 {
			break
		}
		cut := start + 1 + i
		emit(s[start:cut])
		start = cut
	}
	emit(s[start:])
}

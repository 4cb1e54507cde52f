package tokenizer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// T5 special ids (google/t5-v1_1-xxl).
const (
	T5PadID = 0 // <pad>
	T5EOSID = 1 // </s>
	T5UnkID = 2 // <unk>
)

// T5 is the T5 SentencePiece Unigram tokenizer read from a tokenizer.json.
type T5 struct {
	added *addedMatcher // matched in the raw text (normalized=false tokens)
	// normAdded holds added tokens matched after normalisation (normalized=true).
	normAdded *addedMatcher
	normalize []normStep
	meta      *metaspace
	model     *unigram
	sp        specials
	// wsSplit: split on Unicode white space, then Metaspace with prepend "always"
	// (WithWhitespaceSplit).
	wsSplit bool
}

// T5Option configures a T5 tokenizer.
type T5Option func(*T5)

// WithWhitespaceSplit splits the normalised text on Unicode white space before the
// Metaspace step and prepends "▁" to every word. This is what transformers 5.x's
// T5Tokenizer was observed to do (transformers 5.17 / tokenizers 0.23 reference ids):
// it differs from tokenizer.json's own pipeline only where white space survives the
// precompiled charsmap (U+0085 NEXT LINE is the only such character), for text that
// directly follows an added token ("</s>x"), and for a space next to a literal "▁".
// Without this option the tokenizer follows tokenizer.json exactly, as
// tokenizers.Tokenizer.from_file and transformers 4.x T5TokenizerFast do.
func WithWhitespaceSplit() T5Option { return func(t *T5) { t.wsSplit = true } }

var _ Tokenizer = (*T5)(nil)

// NewT5 reads a Hugging Face tokenizer.json whose model is Unigram (T5's).
func NewT5(tokenizerJSON io.Reader, opts ...T5Option) (*T5, error) {
	return newT5(tokenizerJSON, "tokenizer.json", opts)
}

// LoadT5 reads a T5 tokenizer from a tokenizer.json file, or from a directory
// holding one.
func LoadT5(path string, opts ...T5Option) (*T5, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("%w", err)
	}
	defer f.Close()
	return newT5(f, path, opts)
}

func newT5(r io.Reader, name string, opts []T5Option) (*T5, error) {
	tj, err := readTokenizerJSON(r, name)
	if err != nil {
		return nil, err
	}
	t := &T5{}
	if t.model, err = buildUnigram(tj.Model, "model"); err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	if t.normalize, err = buildNormalizer(tj.Normalizer, "normalizer"); err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	if t.meta, err = buildMetaspace(tj.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	var added []addedToken
	for i, a := range tj.AddedTokens {
		if a.Content == "" || a.ID < 0 {
			return nil, errorf("%s: field added_tokens[%d]: empty content or negative id", name, i)
		}
		added = append(added, addedToken{content: a.Content, id: a.ID, normalized: a.Normalized})
	}
	all := newAddedMatcher(added)
	t.added, t.normAdded = all.subset(false), all.subset(true)
	if t.sp, err = templateSpecials(tj.PostProcessor, "post_processor"); err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	t.sp.pad = T5PadID
	for _, o := range opts {
		o(t)
	}
	if t.wsSplit {
		m := *t.meta
		m.prepend = "always"
		t.meta = &m
	}
	for _, a := range added {
		if a.content == "<pad>" {
			t.sp.pad = a.id
		}
	}
	return t, nil
}

// templateSpecials reads the special ids a TemplateProcessing post-processor puts
// before and after a single sequence ("single": [..., {"Sequence": {"id": "A"}}, ...]).
func templateSpecials(raw json.RawMessage, field string) (specials, error) {
	var sp specials
	if isNull(raw) {
		return sp, nil
	}
	var p struct {
		Type   string `json:"type"`
		Single []struct {
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int64 `json:"ids"`
		} `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return sp, fmt.Errorf("field %s: %w", field, err)
	}
	if p.Type != "TemplateProcessing" {
		return sp, fmt.Errorf("field %s.type is %q, only TemplateProcessing is supported", field, p.Type)
	}
	seen := false
	for i, item := range p.Single {
		switch {
		case item.Sequence != nil:
			if seen {
				return sp, fmt.Errorf("field %s.single[%d]: a second sequence in a single template", field, i)
			}
			seen = true
		case item.SpecialToken != nil:
			st, ok := p.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return sp, fmt.Errorf("field %s.single[%d]: special token %q is not in special_tokens", field, i, item.SpecialToken.ID)
			}
			if seen {
				sp.suffix = append(sp.suffix, st.IDs...)
			} else {
				sp.prefix = append(sp.prefix, st.IDs...)
			}
		default:
			return sp, fmt.Errorf("field %s.single[%d]: neither Sequence nor SpecialToken", field, i)
		}
	}
	if !seen {
		return sp, fmt.Errorf("field %s.single has no Sequence", field)
	}
	return sp, nil
}

// VocabSize is the number of pieces (32,100 for T5 v1.1).
func (t *T5) VocabSize() int { return t.model.vocabSize }

// PadID is the id padding uses.
func (t *T5) PadID() int64 { return t.sp.pad }

// Encode returns the Unigram ids followed by </s>, untruncated.
func (t *T5) Encode(text string) ([]int64, error) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	content := make([]int64, 0, len(text)/3+2)
	var nodes []node
	var err error
	for _, seg := range t.added.split(text, true) {
		if seg.added {
			content = append(content, seg.id)
			continue
		}
		s := seg.text
		for _, step := range t.normalize {
			s = step(s)
		}
		for _, s2 := range t.normAdded.split(s, seg.first) {
			if s2.added {
				content = append(content, s2.id)
				continue
			}
			emit := func(pre string) {
				if err == nil {
					content, nodes, err = t.model.encode(pre, content, nodes)
				}
			}
			if !t.wsSplit {
				t.meta.apply(s2.text, s2.first, emit)
				continue
			}
			for _, w := range strings.FieldsFunc(s2.text, unicode.IsSpace) {
				t.meta.apply(w, true, emit)
			}
		}
	}
	if err != nil {
		return nil, errorf("T5 encode: %w", err)
	}
	return t.sp.wrap(content), nil
}

// Pad fits ids to n tokens; see Tokenizer.
func (t *T5) Pad(ids []int64, n int) (padded, mask []int64, dropped int) {
	return t.sp.fit(ids, n)
}

// EncodePadded encodes text and fits it to n tokens (T5SchnellLength or T5DevLength).
func (t *T5) EncodePadded(text string, n int) (Encoding, error) {
	if err := t.sp.checkLen(n); err != nil {
		return Encoding{}, err
	}
	ids, err := t.Encode(text)
	if err != nil {
		return Encoding{}, err
	}
	return t.sp.encodePadded(ids, n), nil
}

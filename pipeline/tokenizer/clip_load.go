package tokenizer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("tokenizer: "+format, args...)
}

// NewCLIP reads a CLIP tokenizer from Hugging Face vocab.json and merges.txt.
func NewCLIP(vocabJSON, mergesTXT io.Reader, opts ...CLIPOption) (*CLIP, error) {
	vocab, err := readVocab(vocabJSON, "vocab.json")
	if err != nil {
		return nil, err
	}
	merges, err := readMerges(mergesTXT, "merges.txt")
	if err != nil {
		return nil, err
	}
	return newCLIP(vocab, merges, "merges.txt", nil, opts)
}

// LoadCLIP reads a CLIP tokenizer directory: tokenizer.json (BPE) if present, else
// vocab.json + merges.txt. A tokenizer_config.json there supplies the pad token
// unless WithPadID is given.
func LoadCLIP(dir string, opts ...CLIPOption) (*CLIP, error) {
	var cfg clipConfig
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.padSet {
		if pad, ok, err := configPadToken(filepath.Join(dir, "tokenizer_config.json")); err != nil {
			return nil, err
		} else if ok {
			opts = append(opts, withPadToken(pad))
		}
	}
	if f, err := os.Open(filepath.Join(dir, "tokenizer.json")); err == nil {
		defer f.Close()
		c, err := newCLIPFromJSON(f, f.Name(), opts)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	vf, err := os.Open(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, errorf("CLIP directory %s: %w", dir, err)
	}
	defer vf.Close()
	mf, err := os.Open(filepath.Join(dir, "merges.txt"))
	if err != nil {
		return nil, errorf("CLIP directory %s: %w", dir, err)
	}
	defer mf.Close()
	vocab, err := readVocab(vf, vf.Name())
	if err != nil {
		return nil, err
	}
	merges, err := readMerges(mf, mf.Name())
	if err != nil {
		return nil, err
	}
	return newCLIP(vocab, merges, mf.Name(), nil, opts)
}

// withPadToken resolves a pad token's text to its id once the vocabulary is known.
func withPadToken(tok string) CLIPOption {
	return func(c *clipConfig) { c.padToken = tok }
}

// NewCLIPFromJSON reads a Hugging Face tokenizer.json whose model is BPE (a CLIP
// tokenizer saved by transformers).
func NewCLIPFromJSON(tokenizerJSON io.Reader, opts ...CLIPOption) (*CLIP, error) {
	return newCLIPFromJSON(tokenizerJSON, "tokenizer.json", opts)
}

func newCLIPFromJSON(r io.Reader, name string, opts []CLIPOption) (*CLIP, error) {
	tj, err := readTokenizerJSON(r, name)
	if err != nil {
		return nil, err
	}
	var m struct {
		Type   string           `json:"type"`
		Vocab  map[string]int64 `json:"vocab"`
		Merges []json.RawMessage
	}
	if typ, err := typed(tj.Model); err != nil {
		return nil, errorf("%s: field model: %w", name, err)
	} else if typ != "BPE" {
		return nil, errorf("%s: field model.type is %q, a CLIP tokenizer needs \"BPE\"", name, typ)
	}
	if err := json.Unmarshal(tj.Model, &m); err != nil {
		return nil, errorf("%s: field model: %w", name, err)
	}
	if len(m.Vocab) == 0 {
		return nil, errorf("%s: field model.vocab is empty", name)
	}
	merges := make([][2]string, 0, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		var pair [2]string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			a, b, ok := strings.Cut(s, " ")
			if !ok {
				return nil, errorf("%s: field model.merges[%d] %q is not \"a b\"", name, i, s)
			}
			pair = [2]string{a, b}
		case json.Unmarshal(raw, &pair) == nil:
		default:
			return nil, errorf("%s: field model.merges[%d] is neither \"a b\" nor [a, b]", name, i)
		}
		merges = append(merges, pair)
	}
	var added []addedToken
	for _, a := range tj.AddedTokens {
		added = append(added, addedToken{content: a.Content, id: a.ID, normalized: a.Normalized})
	}
	return newCLIP(m.Vocab, merges, name+": model.merges", added, opts)
}

// readVocab reads a JSON object token -> id.
func readVocab(r io.Reader, name string) (map[string]int64, error) {
	var v map[string]int64
	if err := json.NewDecoder(r).Decode(&v); err != nil {
		return nil, errorf("%s: not a JSON object of token -> id: %w", name, err)
	}
	if len(v) == 0 {
		return nil, errorf("%s: empty vocabulary", name)
	}
	for tok, id := range v {
		if id < 0 {
			return nil, errorf("%s: token %q has negative id %d", name, tok, id)
		}
	}
	return v, nil
}

// readMerges reads merges.txt: an optional "#version" line, then "a b" per line.
func readMerges(r io.Reader, name string) ([][2]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out [][2]string
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if line == 1 && strings.HasPrefix(s, "#version") {
			continue
		}
		if s == "" {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, errorf("%s:%d: %q is not a merge \"a b\"", name, line, s)
		}
		out = append(out, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, errorf("%s:%d: %w", name, line, err)
	}
	if len(out) == 0 {
		return nil, errorf("%s: no merges", name)
	}
	return out, nil
}

// configPadToken reads pad_token from a tokenizer_config.json (a string or an object
// with "content"). A missing file is not an error.
func configPadToken(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, errorf("%w", err)
	}
	var cfg struct {
		PadToken json.RawMessage `json:"pad_token"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", false, errorf("%s: %w", path, err)
	}
	if len(cfg.PadToken) == 0 || string(cfg.PadToken) == "null" {
		return "", false, nil
	}
	var s string
	if json.Unmarshal(cfg.PadToken, &s) == nil {
		return s, true, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(cfg.PadToken, &obj); err != nil || obj.Content == "" {
		return "", false, errorf("%s: field pad_token is neither a string nor {\"content\": ...}", path)
	}
	return obj.Content, true, nil
}

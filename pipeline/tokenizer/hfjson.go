package tokenizer

import (
	"bytes"
	"encoding/json"
	"io"
)

// tokenizerJSON is the top level of a Hugging Face tokenizer.json; the parts each
// tokenizer interprets stay raw.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID         int64  `json:"id"`
		Content    string `json:"content"`
		Special    bool   `json:"special"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         json.RawMessage `json:"model"`
}

// readTokenizerJSON decodes the top level and checks that a model is present.
func readTokenizerJSON(r io.Reader, name string) (*tokenizerJSON, error) {
	var tj tokenizerJSON
	dec := json.NewDecoder(r)
	if err := dec.Decode(&tj); err != nil {
		return nil, errorf("%s: not a tokenizer.json object: %w", name, err)
	}
	if isNull(tj.Model) {
		return nil, errorf("%s: field model is missing", name)
	}
	return &tj, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// typed reads the "type" field of a tokenizer.json component.
func typed(raw json.RawMessage) (string, error) {
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", err
	}
	return t.Type, nil
}

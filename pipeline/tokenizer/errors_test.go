package tokenizer

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

const bpeTokenizerJSON = `{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,
"post_processor":null,"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	t5JSON, err := os.ReadFile("testdata/t5/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func() error
		want []string // substrings of the error
	}{
		{"t5 given BPE", func() error { _, err := NewT5(strings.NewReader(bpeTokenizerJSON)); return err },
			[]string{"tokenizer.json", "model.type", `"BPE"`, "Unigram"}},
		{"t5 garbage", func() error { _, err := NewT5(strings.NewReader("{not json")); return err },
			[]string{"tokenizer.json", "not a tokenizer.json"}},
		{"t5 no model", func() error { _, err := NewT5(strings.NewReader(`{"normalizer":null}`)); return err },
			[]string{"tokenizer.json", "field model is missing"}},
		{"t5 bad vocab entry", func() error {
			_, err := NewT5(strings.NewReader(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["a"]]}}`))
			return err
		}, []string{"field model", "[piece, score]"}},
		{"t5 unk_id out of range", func() error {
			_, err := NewT5(strings.NewReader(`{"model":{"type":"Unigram","unk_id":5,"vocab":[["a",-1]]},"pre_tokenizer":{"type":"Metaspace"}}`))
			return err
		}, []string{"model.unk_id"}},
		{"t5 unknown normalizer", func() error {
			_, err := NewT5(strings.NewReader(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1]]},
				"normalizer":{"type":"Sequence","normalizers":[{"type":"BertNormalizer"}]},"pre_tokenizer":{"type":"Metaspace"}}`))
			return err
		}, []string{"normalizer.normalizers[0].type", "BertNormalizer"}},
		{"t5 bad charsmap", func() error {
			_, err := NewT5(strings.NewReader(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1]]},
				"normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA"},"pre_tokenizer":{"type":"Metaspace"}}`))
			return err
		}, []string{"normalizer", "precompiled_charsmap"}},
		{"t5 wrong pre-tokenizer", func() error {
			_, err := NewT5(strings.NewReader(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1]]},"pre_tokenizer":{"type":"ByteLevel"}}`))
			return err
		}, []string{"pre_tokenizer.type", "ByteLevel"}},
		{"t5 file missing", func() error { _, err := LoadT5("testdata/nope/tokenizer.json"); return err },
			[]string{"testdata/nope/tokenizer.json"}},
		{"clip given Unigram", func() error { _, err := NewCLIPFromJSON(strings.NewReader(string(t5JSON))); return err },
			[]string{"tokenizer.json", "model.type", "Unigram", `"BPE"`}},
		{"clip garbage vocab", func() error {
			_, err := NewCLIP(strings.NewReader("[1,2]"), strings.NewReader("a b\n"))
			return err
		}, []string{"vocab.json"}},
		{"clip bad merge line", func() error {
			_, err := NewCLIP(strings.NewReader(`{"a":0}`), strings.NewReader("#version: 0.2\na b\nbroken\n"))
			return err
		}, []string{"merges.txt:3", "broken"}},
		{"clip vocab not byte-level", func() error {
			_, err := NewCLIP(strings.NewReader(`{"a":0,"b":1,"ab":2}`), strings.NewReader("a b\n"))
			return err
		}, []string{"byte symbol"}},
		{"clip dir missing", func() error { _, err := LoadCLIP("testdata/nope"); return err },
			[]string{"testdata/nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.load()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCLIPFromTokenizerJSON builds a BPE tokenizer.json from the vocab.json and
// merges.txt in testdata (both merge spellings, "a b" and ["a", "b"]) and checks it
// tokenizes like NewCLIP.
func TestCLIPFromTokenizerJSON(t *testing.T) {
	t.Parallel()
	vocab, err := os.ReadFile("testdata/clip/vocab.json")
	if err != nil {
		t.Fatal(err)
	}
	mergesTxt, err := os.ReadFile("testdata/clip/merges.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(mergesTxt)), "\n")[1:]
	ref := testCLIP(t)
	for _, pairs := range []bool{false, true} {
		var b strings.Builder
		b.WriteString(`{"added_tokens":[{"id":49406,"content":"<|startoftext|>","normalized":true},{"id":49407,"content":"<|endoftext|>","normalized":false}],"model":{"type":"BPE","vocab":`)
		b.Write(vocab)
		b.WriteString(`,"merges":[`)
		for i, l := range lines {
			if i > 0 {
				b.WriteByte(',')
			}
			x, y, _ := strings.Cut(l, " ")
			if pairs {
				fmt.Fprintf(&b, "[%q,%q]", x, y)
			} else {
				fmt.Fprintf(&b, "%q", l)
			}
		}
		b.WriteString(`]}}`)
		c, err := NewCLIPFromJSON(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("pairs=%v: %v", pairs, err)
		}
		for _, text := range []string{"", "a red cube", "Café 東京 🐱 it's state-of-the-art <|endoftext|>"} {
			want, _ := ref.Encode(text)
			got, _ := c.Encode(text)
			if !slices.Equal(want, got) {
				t.Errorf("pairs=%v %q: got %v, want %v", pairs, text, got, want)
			}
		}
	}
}

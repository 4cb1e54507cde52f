package tokenizer

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"", " ", "a red cube", "A photo of a cat's toy, don't!!!", "café 東京 🐱 👨‍👩‍👧‍👦",
	"\x00\xff\xfe invalid \xc3", "e\u0301\u0301\u0301", "<|startoftext|><|endoftext|>",
	"</s><pad><unk><extra_id_0>", "\u2581\u2581 x", "ｆｕｌｌ①²", "\t\n\r\u00a0\u3000",
	strings.Repeat("x", 500),
}

func checkEncoding(t *testing.T, tok Tokenizer, vocab int, text string, n int) {
	t.Helper()
	ids, err := tok.Encode(text)
	if err != nil {
		t.Fatalf("Encode(%q): %v", text, err)
	}
	for i, id := range ids {
		if id < 0 || id >= int64(vocab) {
			t.Fatalf("Encode(%q)[%d] = %d, outside [0,%d)", text, i, id, vocab)
		}
	}
	p, m, dropped := tok.Pad(ids, n)
	if len(p) != n || len(m) != n || dropped != max(0, len(ids)-n) {
		t.Fatalf("Pad(%d ids, %d) = len %d/%d dropped %d", len(ids), n, len(p), len(m), dropped)
	}
}

func FuzzCLIPEncode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	c := testCLIP(f)
	vocab := c.VocabSize()
	f.Fuzz(func(t *testing.T, text string) {
		checkEncoding(t, c, vocab, text, CLIPContext)
	})
}

func FuzzT5Encode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	m := testT5(f)
	vocab := m.VocabSize()
	f.Fuzz(func(t *testing.T, text string) {
		checkEncoding(t, m, vocab, text, T5SchnellLength)
	})
}

// benchPrompt is a typical SN17 prompt.
const benchPrompt = "a weathered bronze statue of a knight on horseback, highly detailed, studio lighting, 3d render"

func benchmarkEncode(b *testing.B, tok Tokenizer) {
	ids, err := tok.Encode(benchPrompt)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tok.Encode(benchPrompt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(len(benchPrompt)*b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func BenchmarkCLIPEncode(b *testing.B) { benchmarkEncode(b, testCLIP(b)) }
func BenchmarkT5Encode(b *testing.B)   { benchmarkEncode(b, testT5(b)) }

func BenchmarkLoadCLIP(b *testing.B) {
	for b.Loop() {
		if _, err := LoadCLIP("testdata/clip"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadT5(b *testing.B) {
	for b.Loop() {
		if _, err := LoadT5("testdata/t5"); err != nil {
			b.Fatal(err)
		}
	}
}

package tokenizer

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	loadCLIP = sync.OnceValues(func() (*CLIP, error) { return LoadCLIP("testdata/clip") })
	loadT5   = sync.OnceValues(func() (*T5, error) { return LoadT5("testdata/t5") })
)

func testCLIP(t testing.TB) *CLIP {
	t.Helper()
	c, err := loadCLIP()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testT5(t testing.TB) *T5 {
	t.Helper()
	m, err := loadT5()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The expected ids were read by hand from testdata/clip/vocab.json ("a</w>" = 320,
// "red</w>" = 736, ...) following the CLIP rules: lower-case, letters runs,
// single digits, punctuation runs, contractions split off, "</w>" on the last symbol.
func TestCLIPKnownIDs(t *testing.T) {
	t.Parallel()
	c := testCLIP(t)
	tests := []struct {
		text string
		want []int64
	}{
		{"", nil},
		{"   ", nil},
		{"a red cube", []int64{320, 736, 11353}},
		{"A RED Cube", []int64{320, 736, 11353}},
		{"  a\t red\n\ncube  ", []int64{320, 736, 11353}},
		{"a photo of a cat", []int64{320, 1125, 539, 320, 2368}},
		{"it's a toy, don't!!!", []int64{585, 568, 320, 5988, 267, 847, 713, 995}},
		{"1234", []int64{272, 273, 274, 275}},
		{"state-of-the-art", []int64{1295, 268, 539, 268, 518, 268, 794}},
		{"hello world.", []int64{3306, 1002, 269}},
		{"&amp;", []int64{261, 6259, 282}},
		{"x <|endoftext|> x", []int64{343, CLIPEndID, 343}},
		{"<|startoftext|>x", []int64{CLIPStartID, 343}},
	}
	for _, tc := range tests {
		got, err := c.Encode(tc.text)
		if err != nil {
			t.Fatalf("Encode(%q): %v", tc.text, err)
		}
		want := append(append([]int64{CLIPStartID}, tc.want...), CLIPEndID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Encode(%q) (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestCLIPOpenAIClean(t *testing.T) {
	t.Parallel()
	c, err := LoadCLIP("testdata/clip", WithOpenAIClean())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Encode("x &amp;amp; x")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{CLIPStartID, 343, 261, 343, CLIPEndID}, got); diff != "" {
		t.Errorf("double html unescape (-want +got):\n%s", diff)
	}
}

// The expected ids were read by hand from testdata/t5/tokenizer.json's Unigram vocab
// ("▁" = 3, "a" = 9, "▁red" = 1131, "▁cu" = 123, "be" = 346, ...).
func TestT5KnownIDs(t *testing.T) {
	t.Parallel()
	m := testT5(t)
	tests := []struct {
		text string
		want []int64
	}{
		{"", nil},
		{"   ", nil},
		{"a red cube", []int64{3, 9, 1131, 123, 346}},
		{"a red cube   ", []int64{3, 9, 1131, 123, 346}},
		{"a    red cube", []int64{3, 9, 1131, 123, 346}},
		{"A photo of a cat", []int64{71, 1202, 13, 3, 9, 1712}},
		{"café crème", []int64{11949, 20435}},
		// CJK and emoji are not in the vocabulary: "▁" then one fused <unk>.
		{"東京 🐱", []int64{3, T5UnkID, 3, T5UnkID}},
		// NFKC through the precompiled charsmap: "ｆｕｌｌ" -> "full", "①" -> "1", "x²" -> "x2".
		{"ｆｕｌｌ ① x²", []int64{423, 209, 3, 226, 357}},
		// A combining sequence is composed: e + U+0301 -> é.
		{"e\u0301", []int64{3, 154}},
		{"</s> <pad> <extra_id_0> x", []int64{T5EOSID, T5PadID, 32099, 3, 226}},
	}
	for _, tc := range tests {
		got, err := m.Encode(tc.text)
		if err != nil {
			t.Fatalf("Encode(%q): %v", tc.text, err)
		}
		want := append(append([]int64(nil), tc.want...), T5EOSID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Encode(%q) (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestPadAndTruncate(t *testing.T) {
	t.Parallel()
	c, m := testCLIP(t), testT5(t)
	long := strings.Repeat("a red cube on a blue table ", 40)
	tests := []struct {
		name        string
		tok         Tokenizer
		text        string
		n           int
		wantTokens  int
		wantDropped int
		first, last int64 // first id, last real id
		pad         int64
	}{
		{"clip empty", c, "", CLIPContext, 2, 0, CLIPStartID, CLIPEndID, CLIPEndID},
		{"clip short", c, "a red cube", CLIPContext, 5, 0, CLIPStartID, CLIPEndID, CLIPEndID},
		{"clip long", c, long, CLIPContext, 2 + 7*40, 2 + 7*40 - CLIPContext, CLIPStartID, CLIPEndID, CLIPEndID},
		{"t5 empty", m, "", T5SchnellLength, 1, 0, T5EOSID, T5EOSID, T5PadID},
		{"t5 long schnell", m, long, T5SchnellLength, -1, -1, 3, T5EOSID, T5PadID},
		{"t5 long dev", m, long, T5DevLength, -1, 0, 3, T5EOSID, T5PadID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := tc.tok.EncodePadded(tc.text, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(enc.IDs) != tc.n || len(enc.Mask) != tc.n {
				t.Fatalf("len(IDs)=%d len(Mask)=%d, want %d", len(enc.IDs), len(enc.Mask), tc.n)
			}
			if tc.wantTokens >= 0 && enc.Tokens != tc.wantTokens {
				t.Errorf("Tokens = %d, want %d", enc.Tokens, tc.wantTokens)
			}
			wantDropped := tc.wantDropped
			if wantDropped < 0 {
				wantDropped = max(0, enc.Tokens-tc.n)
				if wantDropped == 0 {
					t.Fatalf("test prompt should overflow %d tokens, has %d", tc.n, enc.Tokens)
				}
			}
			if enc.Dropped != wantDropped || enc.Truncated() != (wantDropped > 0) {
				t.Errorf("Dropped = %d (Truncated %v), want %d", enc.Dropped, enc.Truncated(), wantDropped)
			}
			real := min(enc.Tokens, tc.n)
			for i := range tc.n {
				wantMask := int64(0)
				if i < real {
					wantMask = 1
				}
				if enc.Mask[i] != wantMask {
					t.Fatalf("Mask[%d] = %d, want %d", i, enc.Mask[i], wantMask)
				}
				if i >= real && enc.IDs[i] != tc.pad {
					t.Fatalf("IDs[%d] = %d, want pad %d", i, enc.IDs[i], tc.pad)
				}
			}
			if enc.IDs[0] != tc.first || enc.IDs[real-1] != tc.last {
				t.Errorf("first/last real ids = %d/%d, want %d/%d", enc.IDs[0], enc.IDs[real-1], tc.first, tc.last)
			}
			full, _ := tc.tok.Encode(tc.text)
			if diff := cmp.Diff(full[:real-1], enc.IDs[:real-1]); diff != "" {
				t.Errorf("kept ids are not a prefix of the full encoding (-full +padded):\n%s", diff)
			}
		})
	}
}

func TestPadTooShort(t *testing.T) {
	t.Parallel()
	c := testCLIP(t)
	if _, err := c.EncodePadded("x", 1); err == nil {
		t.Error("EncodePadded with n=1 (< 2 specials) succeeded")
	}
	ids, mask, dropped := c.Pad([]int64{CLIPStartID, 320, CLIPEndID}, 0)
	if len(ids) != 0 || len(mask) != 0 || dropped != 3 {
		t.Errorf("Pad(n=0) = %v %v %d", ids, mask, dropped)
	}
}

func TestConcurrentEncode(t *testing.T) {
	t.Parallel()
	c, m := testCLIP(t), testT5(t)
	want1, _ := c.Encode("a blue sphere on a yellow box")
	want2, _ := m.Encode("a blue sphere on a yellow box")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				g1, _ := c.Encode("a blue sphere on a yellow box")
				g2, _ := m.Encode("a blue sphere on a yellow box")
				if !cmp.Equal(g1, want1) || !cmp.Equal(g2, want2) {
					t.Error("concurrent Encode differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

package prompts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	ps := Default()
	if len(ps) < 16 {
		t.Fatalf("default corpus has %d prompts, want >= 16", len(ps))
	}
	for _, p := range ps {
		if p.IsImage() || p.ID == "" || p.Text == "" {
			t.Errorf("bad default prompt %+v", p)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cat.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    []Prompt
		wantErr string // substring; empty means success
	}{
		{name: "texts and comments", in: "# c\n\na red cube\n  a blue ball  \n",
			want: FromTexts("a red cube", "a blue ball")},
		{name: "image prompt", in: "cat.png\n", want: []Prompt{Image(filepath.Join(dir, "cat.png"))}},
		{name: "missing image", in: "dog.png\n", wantErr: "p.txt:1: bad prompt: image prompt"},
		{name: "only blanks", in: "\n\n# x\n", wantErr: "no prompts"},
		{name: "duplicate", in: "a\nb\na\n", wantErr: "p.txt:3: bad prompt: duplicate of line 1"},
		{name: "huge line", in: "ok\n" + strings.Repeat("x", MaxLineBytes+10) + "\n", wantErr: "p.txt:2: bad prompt: line"},
		{name: "control chars", in: "a\x00b\n", wantErr: "p.txt:1: bad prompt: not valid"},
		{name: "invalid utf8", in: "a\xffb\n", wantErr: "p.txt:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("p.txt", strings.NewReader(tc.in), dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrBadPrompt) {
					t.Fatalf("err = %v, want containing %q wrapping ErrBadPrompt", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("prompts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSample(t *testing.T) {
	t.Parallel()
	ps := Default()
	a, b := Sample(ps, 5, 7), Sample(ps, 5, 7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different samples:\n%s", diff)
	}
	if len(a) != 5 {
		t.Fatalf("len = %d, want 5", len(a))
	}
	if c := Sample(ps, 5, 8); cmp.Equal(a, c) {
		t.Errorf("different seeds gave the same sample")
	}
	if all := Sample(ps, 0, 1); len(all) != len(ps) {
		t.Errorf("n=0 gave %d, want all %d", len(all), len(ps))
	}
}

func FuzzParse(f *testing.F) {
	f.Add("a red cube\n# x\n\nb\n")
	f.Add(strings.Repeat("y", MaxLineBytes+1))
	f.Add("a\x00")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := Parse("f", strings.NewReader(in), "")
		if err == nil && len(ps) == 0 {
			t.Fatal("nil error with no prompts")
		}
		for _, p := range ps {
			if p.Text == "" || len(p.Text) > MaxLineBytes {
				t.Fatalf("bad prompt %q", p.Text)
			}
		}
	})
}

// Package prompts owns prompt corpora: the embedded default set, loaders for
// prompt files (text prompts one per line, image prompts by path) and
// seeded, reproducible sampling.
package prompts

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Prompt is one generation request: a text prompt or an image prompt.
type Prompt struct {
	// ID is stable across runs: derived from the content, so resumed sweeps
	// and re-ordered files match the same prompt.
	ID string `json:"id"`
	// Text is the text prompt; for an image prompt it is a short label.
	Text string `json:"text,omitempty"`
	// Image is the path of an image prompt; empty for text prompts.
	Image string `json:"image,omitempty"`
}

// IsImage reports whether p is an image prompt.
func (p Prompt) IsImage() bool { return p.Image != "" }

func (p Prompt) String() string {
	if p.IsImage() {
		return "image:" + p.Image
	}
	return p.Text
}

// MaxLineBytes bounds one prompt line; longer lines are an error, not a
// silent truncation.
const MaxLineBytes = 4096

// ErrBadPrompt is wrapped by every error about a malformed prompt file.
var ErrBadPrompt = errors.New("bad prompt")

// imageExts are the file extensions an image prompt may have.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

//go:embed corpus/default.txt
var defaultCorpus []byte

// Default returns the embedded default text corpus.
func Default() []Prompt {
	ps, err := Parse("embedded:default.txt", bytes.NewReader(defaultCorpus), "")
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return ps
}

// FromTexts turns plain strings into text prompts.
func FromTexts(texts ...string) []Prompt {
	ps := make([]Prompt, len(texts))
	for i, t := range texts {
		ps[i] = Text(t)
	}
	return ps
}

// Text returns a text prompt with its content-derived ID.
func Text(s string) Prompt { return Prompt{ID: id("t", s), Text: s} }

// Image returns an image prompt for path with its path-derived ID.
func Image(path string) Prompt {
	return Prompt{ID: id("i", path), Text: filepath.Base(path), Image: path}
}

func id(kind, s string) string {
	h := sha256.Sum256([]byte(kind + ":" + s))
	return kind + hex.EncodeToString(h[:6])
}

// Load reads a prompt file: one prompt per line, blank lines and lines
// starting with '#' skipped. A line naming an existing .png/.jpg file
// (relative to the prompt file) is an image prompt.
func Load(path string) ([]Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	defer f.Close()
	return Parse(path, f, filepath.Dir(path))
}

// Parse reads prompts from r; name is used in errors, and image paths are
// resolved against dir (empty: image prompts are not recognised).
func Parse(name string, r io.Reader, dir string) ([]Prompt, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), MaxLineBytes+1)
	var out []Prompt
	seen := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(s) > MaxLineBytes {
			return nil, fmt.Errorf("%s:%d: %w: line is %d bytes, limit %d", name, line, ErrBadPrompt, len(s), MaxLineBytes)
		}
		if !isText(s) {
			return nil, fmt.Errorf("%s:%d: %w: not valid UTF-8 text or contains control characters", name, line, ErrBadPrompt)
		}
		p := Text(s)
		if dir != "" && imageExts[strings.ToLower(filepath.Ext(s))] {
			path := s
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("%s:%d: %w: image prompt: %w", name, line, ErrBadPrompt, err)
			}
			p = Image(path)
		}
		if prev, dup := seen[p.ID]; dup {
			return nil, fmt.Errorf("%s:%d: %w: duplicate of line %d", name, line, ErrBadPrompt, prev)
		}
		seen[p.ID] = line
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: %w: line longer than %d bytes", name, line+1, ErrBadPrompt, MaxLineBytes)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no prompts (only blank lines or comments)", name, ErrBadPrompt)
	}
	return out, nil
}

func isText(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' || (r < 0x20 && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// Sample returns n prompts drawn without replacement from ps in a
// reproducible order for seed. n <= 0 or n >= len(ps) returns all of
// them, shuffled.
func Sample(ps []Prompt, n int, seed uint64) []Prompt {
	out := append([]Prompt(nil), ps...)
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if n > 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

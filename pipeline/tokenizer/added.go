package tokenizer

import (
	"sort"
	"strings"
)

// addedToken is a token matched literally in the text before the model runs (Hugging
// Face "added_tokens": <pad>, </s>, <|endoftext|>, ...).
type addedToken struct {
	content string
	id      int64
	// normalized: matched in the normalised text rather than the raw text.
	normalized bool
}

// segment is a piece of the input: either plain text or one added token.
type segment struct {
	text  string
	id    int64 // valid when added
	added bool
	// first: the segment starts at offset 0 of the original input.
	first bool
}

// addedMatcher finds added tokens leftmost-longest, as the Hugging Face added
// vocabulary does.
type addedMatcher struct {
	tokens []addedToken // longest first
	starts [256]bool    // first bytes of the tokens
}

func newAddedMatcher(tokens []addedToken) *addedMatcher {
	m := &addedMatcher{tokens: append([]addedToken(nil), tokens...)}
	sort.SliceStable(m.tokens, func(i, j int) bool { return len(m.tokens[i].content) > len(m.tokens[j].content) })
	for _, t := range m.tokens {
		if t.content != "" {
			m.starts[t.content[0]] = true
		}
	}
	return m
}

// split cuts text around the added tokens. first marks whether text begins at offset 0
// of the original input; the flag is passed on to the first plain segment only when
// it does not follow an added token.
func (m *addedMatcher) split(text string, first bool) []segment {
	if m == nil || len(m.tokens) == 0 {
		return []segment{{text: text, first: first}}
	}
	var out []segment
	start := 0
	for i := 0; i < len(text); i++ {
		if !m.starts[text[i]] {
			continue
		}
		for _, t := range m.tokens {
			if t.content == "" || !strings.HasPrefix(text[i:], t.content) {
				continue
			}
			if i > start {
				out = append(out, segment{text: text[start:i], first: first && start == 0})
			}
			out = append(out, segment{text: t.content, id: t.id, added: true})
			i += len(t.content) - 1
			start = i + 1
			break
		}
	}
	if start < len(text) {
		out = append(out, segment{text: text[start:], first: first && start == 0})
	}
	return out
}

// subset returns a matcher over the tokens whose normalized flag equals want.
func (m *addedMatcher) subset(want bool) *addedMatcher {
	var ts []addedToken
	for _, t := range m.tokens {
		if t.normalized == want {
			ts = append(ts, t)
		}
	}
	return newAddedMatcher(ts)
}

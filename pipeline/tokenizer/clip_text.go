package tokenizer

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// clipNormalize is the Hugging Face CLIP normaliser: NFC, every run of whitespace
// replaced by one space, then per-character lower-casing.
//
// OpenAI's simple_tokenizer instead runs ftfy.fix_text + html.unescape (twice) and a
// whitespace collapse; ftfy is not available in Go, and the FLUX pipelines use the
// Hugging Face tokenizer, so NFC stands in for ftfy here (see WithOpenAIClean for the
// HTML part).
func clipNormalize(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		lowerRune(&b, r)
	}
	return b.String()
}

// lowerRune writes the full Unicode lower-case mapping of r. Go's unicode.ToLower is
// the simple mapping; the only unconditional multi-rune lower-case mapping is U+0130
// (LATIN CAPITAL LETTER I WITH DOT ABOVE) -> "i\u0307", which Rust's char::to_lowercase
// (and so Hugging Face's Lowercase normaliser) produces.
func lowerRune(b *strings.Builder, r rune) {
	if r == 'İ' {
		b.WriteString("i\u0307")
		return
	}
	b.WriteRune(unicode.ToLower(r))
}

// openAIClean is the part of OpenAI's basic_clean + whitespace_clean that Go can do:
// html.unescape twice, whitespace runs to one space, trimmed.
func openAIClean(s string) string {
	s = html.UnescapeString(html.UnescapeString(s))
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// clipContractions are the contraction alternatives of the CLIP split pattern, in
// pattern order.
var clipContractions = [...]string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"}

// clipPreSplit splits normalised text the way the CLIP pattern
//
//	's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// does (the <|startoftext|>/<|endoftext|> alternatives are handled as added tokens
// before this). Whitespace is dropped. It is written by hand rather than with Go's
// regexp because Go's \s is ASCII-only while Python's regex and Oniguruma treat
// Unicode white space as \s; here \s is unicode.IsSpace (the White_Space property).
// \p{L} and \p{N} are Go's unicode.Letter and unicode.Number tables (Go's Unicode
// version may differ from the Python/Rust one for very recent characters).
func clipPreSplit(s string, emit func(word string)) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\'' && contractionAt(s[i:]) > 0:
			n := contractionAt(s[i:])
			emit(s[i : i+n])
			i += n
		case unicode.IsLetter(r):
			j := i + size
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) {
					break
				}
				j += sz
			}
			emit(s[i:j])
			i = j
		case unicode.IsNumber(r):
			emit(s[i : i+size])
			i += size
		case unicode.IsSpace(r):
			i += size
		default:
			j := i + size
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r2) || unicode.IsLetter(r2) || unicode.IsNumber(r2) {
					break
				}
				j += sz
			}
			emit(s[i:j])
			i = j
		}
	}
}

// contractionAt returns the length of the contraction s starts with, or 0.
func contractionAt(s string) int {
	for _, c := range clipContractions {
		if strings.HasPrefix(s, c) {
			return len(c)
		}
	}
	return 0
}

// byteSymbols is GPT-2's bytes_to_unicode table: printable Latin-1 bytes map to
// themselves, the other bytes to U+0100 upwards in byte order.
func byteSymbols() [256]string {
	var t [256]string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = string(rune(b))
		} else {
			t[b] = string(rune(256 + n))
			n++
		}
	}
	return t
}

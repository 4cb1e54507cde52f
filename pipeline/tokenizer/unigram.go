package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// unkPenalty is how much worse than the worst piece an unknown character scores
// (SentencePiece's kUnkPenalty).
const unkPenalty = 10.0

// unigram is a SentencePiece Unigram model: pieces with log-probabilities, segmented
// by Viterbi (the segmentation with the largest total score).
type unigram struct {
	pieces      map[string]piece
	maxLen      int // longest piece in bytes
	unkID       int64
	unkScore    float64
	byteFall    bool
	byteIDs     [256]int64 // <0xXX> ids when byteFall
	vocabSize   int
	fuseUnknown bool
}

type piece struct {
	id    int64
	score float64
}

// vocabEntry is one [piece, score] pair of the Unigram vocab.
type vocabEntry struct {
	Piece string
	Score float64
}

func (v *vocabEntry) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("want [piece, score], got %.40s", b)
	}
	if err := json.Unmarshal(pair[0], &v.Piece); err != nil {
		return fmt.Errorf("piece: %w", err)
	}
	if err := json.Unmarshal(pair[1], &v.Score); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	return nil
}

// buildUnigram reads a tokenizer.json "model" of type Unigram.
func buildUnigram(raw json.RawMessage, field string) (*unigram, error) {
	var m struct {
		Type         string       `json:"type"`
		UnkID        *int64       `json:"unk_id"`
		Vocab        []vocabEntry `json:"vocab"`
		ByteFallback bool         `json:"byte_fallback"`
	}
	if typ, err := typed(raw); err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	} else if typ != "Unigram" {
		return nil, fmt.Errorf("field %s.type is %q, a T5 tokenizer needs \"Unigram\"", field, typ)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("field %s: %w", field, err)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("field %s.vocab is empty", field)
	}
	u := &unigram{pieces: make(map[string]piece, len(m.Vocab)), byteFall: m.ByteFallback,
		vocabSize: len(m.Vocab), fuseUnknown: true, unkID: -1}
	if m.UnkID != nil {
		if *m.UnkID < 0 || *m.UnkID >= int64(len(m.Vocab)) {
			return nil, fmt.Errorf("field %s.unk_id %d is outside the %d-piece vocab", field, *m.UnkID, len(m.Vocab))
		}
		u.unkID = *m.UnkID
	}
	minScore := math.Inf(1)
	for i, e := range m.Vocab {
		if math.IsNaN(e.Score) || math.IsInf(e.Score, 0) {
			return nil, fmt.Errorf("field %s.vocab[%d] %q: score %v", field, i, e.Piece, e.Score)
		}
		if _, dup := u.pieces[e.Piece]; !dup {
			u.pieces[e.Piece] = piece{id: int64(i), score: e.Score}
		}
		u.maxLen = max(u.maxLen, len(e.Piece))
		minScore = min(minScore, e.Score)
	}
	u.unkScore = minScore - unkPenalty
	if u.byteFall {
		for b := range 256 {
			p, ok := u.pieces[fmt.Sprintf("<0x%02X>", b)]
			if !ok {
				return nil, fmt.Errorf("field %s.byte_fallback is true but piece <0x%02X> is missing", field, b)
			}
			u.byteIDs[b] = p.id
		}
	}
	return u, nil
}

// node is one Viterbi cell: the best path ending at this byte offset.
type node struct {
	score float64
	start int   // where the last piece of that path starts
	id    int64 // its id, -1 for an unknown character
	set   bool
}

// encode appends the ids of one pre-token. nodes is scratch space.
func (u *unigram) encode(s string, out []int64, nodes []node) ([]int64, []node, error) {
	if s == "" {
		return out, nodes, nil
	}
	n := len(s)
	if cap(nodes) < n+1 {
		nodes = make([]node, n+1)
	}
	nodes = nodes[:n+1]
	clear(nodes)
	nodes[0].set = true
	for start := 0; start < n; start++ {
		if !nodes[start].set {
			continue // inside a character
		}
		base := nodes[start].score
		_, charLen := utf8.DecodeRuneInString(s[start:])
		single := false
		for end := start + 1; end <= n && end-start <= u.maxLen; end++ {
			if end < n && !utf8.RuneStart(s[end]) {
				continue
			}
			p, ok := u.pieces[s[start:end]]
			if !ok {
				continue
			}
			if end-start == charLen {
				single = true
			}
			if c := base + p.score; !nodes[end].set || c > nodes[end].score {
				nodes[end] = node{score: c, start: start, id: p.id, set: true}
			}
		}
		if !single {
			end := start + charLen
			if c := base + u.unkScore; !nodes[end].set || c > nodes[end].score {
				nodes[end] = node{score: c, start: start, id: -1, set: true}
			}
		}
	}
	// Backtrack, then emit in order.
	var ends []int
	for end := n; end > 0; end = nodes[end].start {
		ends = append(ends, end)
	}
	prevUnk := false
	for i := len(ends) - 1; i >= 0; i-- {
		nd := nodes[ends[i]]
		if nd.id >= 0 {
			out = append(out, nd.id)
			prevUnk = false
			continue
		}
		if u.byteFall {
			for j := nd.start; j < ends[i]; j++ {
				out = append(out, u.byteIDs[s[j]])
			}
			continue
		}
		if u.unkID < 0 {
			return out, nodes, fmt.Errorf("character %q is not in the vocabulary and the model has no unk_id", s[nd.start:ends[i]])
		}
		if !(u.fuseUnknown && prevUnk) {
			out = append(out, u.unkID)
		}
		prevUnk = true
	}
	return out, nodes, nil
}

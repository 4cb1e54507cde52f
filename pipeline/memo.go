package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image"
	"sync"
	"time"
)

// memo keeps the outputs of a deterministic stage by a key of its input,
// with the time computing each took. It is bounded: the oldest entry goes
// first.
type memo struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string]memoEntry
	// last maps a job ID to the cost of the output it reused, if it did.
	last map[string]float64
}

type memoEntry struct {
	img     *image.NRGBA
	seconds float64
}

func newMemo(max int) *memo {
	return &memo{max: max, m: map[string]memoEntry{}, last: map[string]float64{}}
}

// do returns the output for key, computing it with f on a miss. Concurrent
// misses on one key may both compute; the output is the same.
func (c *memo) do(job, key string, f func() (*image.NRGBA, error)) (*image.NRGBA, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	if ok {
		c.last[job] = e.seconds
		c.mu.Unlock()
		return e.img, nil
	}
	delete(c.last, job)
	c.mu.Unlock()
	start := time.Now()
	img, err := f()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		c.m[key] = memoEntry{img: img, seconds: time.Since(start).Seconds()}
		c.order = append(c.order, key)
		if len(c.order) > c.max {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	return img, nil
}

// reused reports whether job's last call reused an output, and its cost.
func (c *memo) reused(job string) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.last[job]
	delete(c.last, job)
	return s, ok
}

// imageKey hashes an image's size and pixels.
func imageKey(img *image.NRGBA) string {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(img.Rect.Dx()))
	binary.LittleEndian.PutUint64(b[8:], uint64(img.Rect.Dy()))
	h.Write(b[:])
	h.Write(img.Pix)
	return hex.EncodeToString(h.Sum(nil))
}

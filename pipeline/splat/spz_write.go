package splat

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/splatbench/splatbench/internal/parallel"
)

// SPZContainer selects the SPZ file container.
type SPZContainer int

const (
	// SPZZstd is the subnet's fork (404-Repo/spz): version 2 payload in one
	// zstd frame with the content size. It is what SN17 validators decode.
	SPZZstd SPZContainer = iota
	// SPZGzip is Niantic's legacy container: the payload in one gzip stream.
	SPZGzip
	// SPZNGSP is Niantic's v4 container: a plain 32-byte header, a table of
	// contents and one zstd frame per attribute.
	SPZNGSP
)

func (c SPZContainer) String() string {
	switch c {
	case SPZZstd:
		return "zstd (404 fork)"
	case SPZGzip:
		return "gzip (legacy)"
	case SPZNGSP:
		return "NGSP v4"
	}
	return fmt.Sprintf("SPZContainer(%d)", int(c))
}

// SPZOptions controls WriteSPZ. The zero value writes what SN17 validators
// expect: the zstd fork, version 2, 12 fractional bits, zstd level 1.
type SPZOptions struct {
	Container SPZContainer
	// Version of the payload: 0 means the container's default (2 for zstd and
	// gzip, 4 for NGSP). Gzip also takes 3 (smallest-three rotations). The
	// zstd fork reads only 1..2.
	Version int
	// Level is the compression level: zstd 1..4 (klauspost speed levels;
	// 1 = fastest, the fork's default), gzip 1..9. 0 means the default.
	Level int
	// FractionalBits of the fixed-point positions; 0 means 12.
	FractionalBits int
	// Antialiased sets header flag 0x1 (mip-splatting).
	Antialiased bool
}

func (o SPZOptions) normalised() (SPZOptions, error) {
	if o.FractionalBits == 0 {
		o.FractionalBits = spzDefaultFracBits
	}
	if o.FractionalBits < 0 || o.FractionalBits > 23 {
		return o, fmt.Errorf("spz: fractional bits %d outside 1..23", o.FractionalBits)
	}
	switch o.Container {
	case SPZZstd:
		if o.Version == 0 {
			o.Version = 2
		}
		if o.Version != 2 {
			return o, fmt.Errorf("spz: the zstd fork container takes version 2, not %d", o.Version)
		}
	case SPZGzip:
		if o.Version == 0 {
			o.Version = 2
		}
		if o.Version != 2 && o.Version != 3 {
			return o, fmt.Errorf("spz: the gzip container is written as version 2 or 3, not %d", o.Version)
		}
	case SPZNGSP:
		if o.Version == 0 {
			o.Version = 4
		}
		if o.Version != 4 {
			return o, fmt.Errorf("spz: the NGSP container is version 4, not %d", o.Version)
		}
	default:
		return o, fmt.Errorf("spz: unknown container %v", o.Container)
	}
	return o, nil
}

// WriteSPZ encodes c as SPZ with the subnet fork's quantisation
// (docs/protocol.md §4.3) in the container opts selects.
func WriteSPZ(w io.Writer, c *Cloud, opts SPZOptions) error {
	o, err := opts.normalised()
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("spz: %w", err)
	}
	if c.Len() > GateMaxDecodePoints && o.Container == SPZZstd {
		return fmt.Errorf("spz: %d Gaussians; the fork's decoder accepts at most %d", c.Len(), GateMaxDecodePoints)
	}
	if c.Len() == 0 && o.Container == SPZNGSP {
		return fmt.Errorf("spz: the NGSP container needs at least one Gaussian")
	}
	blocks := spzPack(c, o, spzPackWorkers(c.Len()))
	var flags byte
	if o.Antialiased {
		flags |= 1
	}
	switch o.Container {
	case SPZNGSP:
		return writeNGSP(w, c, o, flags, blocks)
	case SPZGzip:
		level := o.Level
		if level == 0 {
			level = gzip.DefaultCompression
		}
		zw, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			return fmt.Errorf("spz: %w", err)
		}
		if _, err := zw.Write(spzHeader16(c, o, flags)); err != nil {
			return fmt.Errorf("spz: write: %w", err)
		}
		for _, b := range blocks {
			if _, err := zw.Write(b); err != nil {
				return fmt.Errorf("spz: write: %w", err)
			}
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("spz: write: %w", err)
		}
		return nil
	}
	payload := bytes.Join(append([][]byte{spzHeader16(c, o, flags)}, blocks...), nil)
	enc, err := spzEncoder(o.Level)
	if err != nil {
		return err
	}
	// EncodeAll writes the frame content size, which the fork's decoder reads.
	if _, err := w.Write(enc.EncodeAll(payload, make([]byte, 0, len(payload)/2+64))); err != nil {
		return fmt.Errorf("spz: write: %w", err)
	}
	return nil
}

// spzEncoders are the zstd encoders of levels 1..4, made once: making one
// allocates and clears its tables, which cost as much as encoding a picture
// job's cloud (BenchmarkSPZEncoder). EncodeAll may be called concurrently.
var spzEncoders [4]func() (*zstd.Encoder, error)

func init() {
	for i := range spzEncoders {
		spzEncoders[i] = sync.OnceValues(func() (*zstd.Encoder, error) {
			return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevel(i+1)), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
		})
	}
}

// spzEncoder is the shared encoder of a zstd level (0: 1).
func spzEncoder(level int) (*zstd.Encoder, error) {
	if level == 0 {
		level = 1
	}
	if level < 1 || level > 4 {
		return nil, fmt.Errorf("spz: zstd level %d outside 1..4", level)
	}
	enc, err := spzEncoders[level-1]()
	if err != nil {
		return nil, fmt.Errorf("spz: zstd: %w", err)
	}
	return enc, nil
}

func spzHeader16(c *Cloud, o SPZOptions, flags byte) []byte {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], spzMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(o.Version))
	binary.LittleEndian.PutUint32(h[8:], uint32(c.Len()))
	h[12], h[13], h[14] = byte(c.SHDegree), byte(o.FractionalBits), flags
	return h
}

// spzPackWorkers is how many goroutines pack n Gaussians: one for each
// 8192 or part of it (a picture job's 20 000-Gaussian cloud packs on 3),
// at most one a core.
func spzPackWorkers(n int) int {
	return min(runtime.GOMAXPROCS(0), n/8192+1)
}

// spzPack quantises c into the six attribute blocks (positions, alphas,
// colours, scales, rotations, SH); the SH block is empty for degree 0. The
// Gaussians are split over workers goroutines; the bytes do not depend on
// how many.
func spzPack(c *Cloud, o SPZOptions, workers int) [][]byte {
	n, dim := c.Len(), c.K()-1
	rotBytes := 3
	if o.Version >= 3 {
		rotBytes = 4
	}
	blocks := [][]byte{make([]byte, 9*n), make([]byte, n), make([]byte, 3*n), make([]byte, 3*n), make([]byte, rotBytes*n), make([]byte, 3*dim*n)}
	parallel.For(n, workers, func(lo, hi int) { spzPackRange(c, o, blocks, lo, hi) })
	return blocks
}

// spzPackRange packs Gaussians [lo, hi) of c into spzPack's blocks.
func spzPackRange(c *Cloud, o SPZOptions, blocks [][]byte, lo, hi int) {
	pos, alpha, color, scale, rot, sh := blocks[0], blocks[1], blocks[2], blocks[3], blocks[4], blocks[5]
	rotBytes := len(rot) / c.Len()
	k := c.K()
	dim := k - 1
	for i := lo; i < hi; i++ {
		for a := range 3 {
			p := spzPackPos(c.Pos[3*i+a], o.FractionalBits)
			copy(pos[9*i+3*a:], p[:])
			color[3*i+a] = spzPackColor(c.SH[3*k*i+a])
			scale[3*i+a] = spzPackScale(c.LogScale[3*i+a])
		}
		alpha[i] = spzPackAlpha(c.OpacityLogit[i])
		q := c.Rot[4*i : 4*i+4]
		if rotBytes == 3 {
			r := spzPackRotFirstThree(q)
			copy(rot[3*i:], r[:])
		} else {
			binary.LittleEndian.PutUint32(rot[4*i:], spzPackRotSmallest3(q))
		}
		src := c.SH[3*k*i+3 : 3*k*(i+1)] // coefficients 1..dim, RGB inner
		dst := sh[3*dim*i : 3*dim*(i+1)]
		for j, v := range src {
			bucket := spzSHRestBucket
			if j < spzSH1Bytes {
				bucket = spzSH1Bucket
			}
			dst[j] = spzPackSH(v, bucket)
		}
	}
}

// writeNGSP writes the v4 container: 32-byte header, table of contents, one
// zstd frame per non-empty attribute block.
func writeNGSP(w io.Writer, c *Cloud, o SPZOptions, flags byte, blocks [][]byte) error {
	enc, err := spzEncoder(o.Level)
	if err != nil {
		return err
	}
	var frames [][]byte
	var raw []int
	for _, b := range blocks {
		if len(b) == 0 {
			continue
		}
		frames = append(frames, enc.EncodeAll(b, nil))
		raw = append(raw, len(b))
	}
	h := make([]byte, 32+16*len(frames))
	binary.LittleEndian.PutUint32(h[0:], spzMagic)
	binary.LittleEndian.PutUint32(h[4:], 4)
	binary.LittleEndian.PutUint32(h[8:], uint32(c.Len()))
	h[12], h[13], h[14], h[15] = byte(c.SHDegree), byte(o.FractionalBits), flags, byte(len(frames))
	binary.LittleEndian.PutUint32(h[16:], 32)
	for i, f := range frames {
		binary.LittleEndian.PutUint64(h[32+16*i:], uint64(len(f)))
		binary.LittleEndian.PutUint64(h[40+16*i:], uint64(raw[i]))
	}
	for _, b := range append([][]byte{h}, frames...) {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("spz: write: %w", err)
		}
	}
	return nil
}

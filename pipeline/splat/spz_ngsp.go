package splat

import (
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// readNGSP decodes Niantic's v4 container (docs/protocol.md §4.4): a plain
// 32-byte header, optional extension records, a table of contents of
// (compressed, uncompressed) u64 sizes, then one zstd frame per non-empty
// attribute block, the last ending exactly at EOF.
func readNGSP(data []byte) (*Cloud, *SPZInfo, error) {
	bad := func(field string, off int64, format string, a ...any) error {
		return &SPZError{Field: field, Offset: off, Err: fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)}
	}
	if len(data) < 32 {
		return nil, nil, &SPZError{Field: "header", Offset: int64(len(data)), Err: fmt.Errorf("%w: %d bytes, the NGSP header needs 32", ErrTruncated, len(data))}
	}
	l, err := checkSPZHeader(data, 4, 4, spzMaxPointsOther, false)
	if err != nil {
		return nil, nil, err
	}
	if l.n == 0 {
		return nil, nil, bad("numPoints", 8, "0; NGSP requires at least one point")
	}
	if int64(l.n) > int64(len(data))*1024/9 {
		return nil, nil, bad("numPoints", 8, "%d is implausible for a %d-byte file", l.n, len(data))
	}
	flags, numStreams := data[14], int(data[15])
	toc := int64(binary.LittleEndian.Uint32(data[16:]))
	if toc < 32 || toc > int64(len(data)) {
		return nil, nil, bad("tocByteOffset", 16, "%d outside 32..%d", toc, len(data))
	}
	if flags&2 == 0 && toc != 32 {
		return nil, nil, bad("tocByteOffset", 16, "%d but no extensions flag", toc)
	}
	var want []int
	var blockIdx []int
	for i, s := range l.sizes {
		if s > 0 {
			want = append(want, s)
			blockIdx = append(blockIdx, i)
		}
	}
	if numStreams != len(want) {
		return nil, nil, bad("numStreams", 15, "%d, want %d for SH degree %d", numStreams, len(want), l.deg)
	}
	dataStart := toc + 16*int64(numStreams)
	if dataStart > int64(len(data)) {
		return nil, nil, &SPZError{Field: "table of contents", Offset: toc, Err: fmt.Errorf("%w: file ends inside it", ErrTruncated)}
	}
	maxBlock := 0
	for _, w := range want {
		maxBlock = max(maxBlock, w)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(spzMaxZstdWindow),
		zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(uint64(maxBlock)+8<<20))
	if err != nil {
		return nil, nil, &SPZError{Field: "zstd", Err: err}
	}
	defer dec.Close()
	blocks := make([][]byte, 6)
	pos := dataStart
	for s := range numStreams {
		entry := toc + 16*int64(s)
		name := spzBlockNames[blockIdx[s]]
		comp := binary.LittleEndian.Uint64(data[entry:])
		raw := binary.LittleEndian.Uint64(data[entry+8:])
		if raw != uint64(want[s]) {
			return nil, nil, bad(name+" size", entry+8, "uncompressed size %d, want %d", raw, want[s])
		}
		if comp > uint64(int64(len(data))-pos) {
			return nil, nil, &SPZError{Field: name + " size", Offset: entry, Err: fmt.Errorf("%w: stream of %d bytes at %d runs past the end of the %d-byte file", ErrTruncated, comp, pos, len(data))}
		}
		frame := data[pos : pos+int64(comp)]
		var h zstd.Header
		if err := h.Decode(frame); err != nil {
			return nil, nil, bad(name, pos, "zstd frame header: %v", err)
		}
		if h.HasFCS && h.FrameContentSize != raw {
			return nil, nil, bad(name, pos, "zstd content size %d, want %d", h.FrameContentSize, raw)
		}
		out, err := dec.DecodeAll(frame, make([]byte, 0, want[s]))
		if err != nil {
			return nil, nil, bad(name, pos, "zstd: %v", err)
		}
		if len(out) != want[s] {
			return nil, nil, bad(name, pos, "decompressed to %d bytes, want %d", len(out), want[s])
		}
		blocks[blockIdx[s]] = out
		pos += int64(comp)
	}
	if pos != int64(len(data)) {
		return nil, nil, bad("streams", pos, "%d bytes after the last stream", int64(len(data))-pos)
	}
	for i := range blocks {
		if blocks[i] == nil {
			blocks[i] = []byte{}
		}
	}
	c := spzUnpack(l, blocks)
	if err := spzValidate(c, false); err != nil {
		return nil, nil, err
	}
	return c, &SPZInfo{Container: SPZNGSP, Version: 4, NumPoints: l.n, SHDegree: l.deg, FractionalBits: l.fb,
		Antialiased: flags&1 != 0, Flags: flags, PayloadBytes: l.total()}, nil
}

package cuda

// fitChunkLen is the chunk length of the fit path's raster (Forward,
// Backward, FitBatch): a tile's depth-sorted list is split into chunks of
// this many Gaussians, one raster block each, so a crowded tile no longer
// bounds the kernel by its serial walk; tiles of at most fitChunkLen stay
// one chunk. A variable for the tests and benchmarks.
var fitChunkLen = 128

// countRewalks makes rasterRewalk count, in ws.rewalks, the pixels that
// re-walk a chunk after the first (tests).
var countRewalks = false

// rasterChunked is the forward raster of the fit path: the chunk plan,
// one block per (tile, chunk), the merge's first pass (the chunk each pixel
// stops in), the re-walk of those chunks from the transmittance before
// them (one block per (tile, chunk) again) and the merge, which also
// stores per chunk the state the backward starts from; the caller holds
// the device.
func (d *Device) rasterChunked(b *binned, order uint64, mp modeParams, bg [3]float32) error {
	ws := &d.ws
	nTiles := b.views * b.tilesPerVw
	b.chunkLen = max(fitChunkLen, 1)
	b.chunkBlocks = nTiles + int(cdiv(b.instances, b.chunkLen))
	for _, e := range []struct {
		b    *devBuf
		size uint64
	}{
		{&ws.tileChunk, uint64(8 * nTiles)}, {&ws.work, uint64(8 * b.chunkBlocks)}, {&ws.nWork, 4},
		{&ws.partC, uint64(16 * 256 * b.chunkBlocks)}, {&ws.partTL, uint64(8 * 256 * b.chunkBlocks)},
	} {
		if err := d.ensure(e.b, e.size, "raster chunks"); err != nil {
			return err
		}
	}
	rewalks := uint64(0)
	if countRewalks {
		if err := d.ensure(&ws.rewalks, 4, "re-walk count"); err != nil {
			return err
		}
		if err := d.memset0(ws.rewalks.ptr, 4); err != nil {
			return err
		}
		rewalks = ws.rewalks.ptr
	}
	chunkLen := int32(b.chunkLen)
	err := d.launch("chunkPlan", [3]uint32{1, 1, 1}, [3]uint32{1024, 1, 1},
		ws.ranges.ptr, order, int32(nTiles), chunkLen, ws.tileChunk.ptr, ws.work.ptr, ws.nWork.ptr)
	if err != nil {
		return err
	}
	err = d.launch("rasterChunk", [3]uint32{uint32(b.chunkBlocks), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, ws.ranges.ptr, ws.work.ptr, ws.nWork.ptr, ws.tileChunk.ptr, chunkLen, b.vals,
		ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, mp.alphaMax, mp.stopAt, bg[0], bg[1], bg[2],
		ws.rgb.ptr, ws.alpha.ptr, ws.depth.ptr, ws.finalT.ptr, ws.last.ptr, ws.partC.ptr, ws.partTL.ptr)
	if err != nil {
		return err
	}
	err = d.launch("rasterStops", [3]uint32{uint32(nTiles), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, order, ws.tileChunk.ptr, mp.stopAt, ws.partTL.ptr, ws.finalT.ptr, ws.last.ptr)
	if err != nil {
		return err
	}
	err = d.launch("rasterRewalk", [3]uint32{uint32(b.chunkBlocks), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, ws.ranges.ptr, ws.work.ptr, ws.nWork.ptr, ws.tileChunk.ptr, chunkLen, b.vals,
		ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, mp.alphaMax, mp.stopAt, ws.finalT.ptr, ws.last.ptr,
		ws.partC.ptr, ws.partTL.ptr, rewalks)
	if err != nil {
		return err
	}
	return d.launch("rasterMerge", [3]uint32{uint32(nTiles), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, ws.ranges.ptr, order, ws.tileChunk.ptr, chunkLen, b.vals,
		ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, mp.alphaMax, mp.stopAt, bg[0], bg[1], bg[2],
		ws.rgb.ptr, ws.alpha.ptr, ws.depth.ptr, ws.finalT.ptr, ws.last.ptr, ws.partC.ptr, ws.partTL.ptr)
}

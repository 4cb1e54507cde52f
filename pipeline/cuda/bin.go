package cuda

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// workspace holds the device buffers a render or training step reuses.
type workspace struct {
	cloud                                    DeviceCloud // Render's copy of the caller's cloud
	views                                    devBuf
	xy, conicOp, rgbd, rects, touched, offs  devBuf
	masks                                    devBuf // per (view, Gaussian): the kept tiles of a small rectangle
	scanStatus, scanTicket                   devBuf // the single-pass scan's chunk status words and ticket counter
	scanEpoch, scanTickets                   uint32 // host copies: the last epoch used, tickets handed out
	keys, vals, keysAlt, valsAlt, hist       devBuf
	dkeys, dvals, dkeysAlt, dvalsAlt, cnt    devBuf // the (view, depth) sort
	ranges                                   devBuf
	order                                    devBuf   // the raster blocks' tiles, centre first
	orderFor                                 [3]int   // (views, tilesX, tilesY) that order holds
	orderHost                                []uint32 // order's host copy (pinned until the upload is done)
	rgb, alpha, depth, finalT, last          devBuf
	acc, dRGB, dAlpha                        devBuf
	tileChunk, work, nWork, partC, partTL    devBuf // the fit path's chunk plan and per-chunk partials
	rewalks                                  devBuf // countRewalks' counter
	gPos, gScale, gRot, gOp, gSH, gNDC, gVis devBuf
}

func (w *workspace) free(a *api) {
	bufs := []*devBuf{&w.cloud.pos, &w.cloud.logScale, &w.cloud.rot, &w.cloud.opLogit, &w.cloud.sh,
		&w.views, &w.xy, &w.conicOp, &w.rgbd, &w.rects, &w.touched, &w.offs, &w.masks,
		&w.keys, &w.vals, &w.keysAlt, &w.valsAlt, &w.hist, &w.ranges,
		&w.dkeys, &w.dvals, &w.dkeysAlt, &w.dvalsAlt, &w.cnt,
		&w.rgb, &w.alpha, &w.depth, &w.finalT, &w.last, &w.acc, &w.dRGB, &w.dAlpha,
		&w.gPos, &w.gScale, &w.gRot, &w.gOp, &w.gSH, &w.gNDC, &w.gVis}
	bufs = append(bufs, &w.scanStatus, &w.scanTicket, &w.order)
	bufs = append(bufs, &w.tileChunk, &w.work, &w.nWork, &w.partC, &w.partTL, &w.rewalks)
	w.orderFor, w.orderHost = [3]int{}, nil
	w.scanEpoch, w.scanTickets = 0, 0
	for _, b := range bufs {
		if b.ptr != 0 {
			a.cuMemFree(b.ptr)
		}
		*b = devBuf{}
	}
}

const (
	scanChunk = 2048 // SCAN_CHUNK in kernels/sort.cu
	sortChunk = 2048 // SORT_CHUNK
)

// maxInstances bounds the (Gaussian, tile) pairs and the Gaussians × views
// of one batch: the kernels index them with 32-bit signed integers.
const maxInstances = math.MaxInt32

// checkBatch refuses a batch whose Gaussians × views, or whose per-chunk
// pair counts (each Gaussian covers at most tilesPerView tiles), do not
// fit the kernels' 32-bit indices.
func checkBatch(n, views, tilesPerView int) error {
	if total := uint64(n) * uint64(views); total > maxInstances {
		return fmt.Errorf("cuda: %d Gaussians × %d views = %d, over the %d one batch can index; render fewer views at once", n, views, total, maxInstances)
	}
	if uint64(scanChunk)*uint64(tilesPerView) > math.MaxUint32 {
		return fmt.Errorf("cuda: %d tiles per view is over the %d the tile count can take", tilesPerView, math.MaxUint32/scanChunk)
	}
	return nil
}

// fitsUint32 says whether total Gaussian-views covering at most
// tilesPerView tiles each can make no more than 2³²−1 pairs, so that the
// scan's 32-bit total cannot have wrapped.
func fitsUint32(total, tilesPerView int) bool {
	return uint64(total)*uint64(tilesPerView) <= math.MaxUint32
}

// instanceCount is the number of (Gaussian, tile) pairs in 64 bits: the
// last offset plus the last count (tail) when the scan cannot have
// wrapped (status nil), else the sum of the scan's chunk totals, each the
// difference of two consecutive inclusive prefixes (the low 32 bits of the
// scan's status words, see scanPublish in kernels/sort.cu), exact because
// one chunk's total cannot reach 2³² (checkBatch).
func instanceCount(tail [2]uint32, status []uint64) uint64 {
	if status == nil {
		return uint64(tail[0]) + uint64(tail[1])
	}
	var sum uint64
	var prev uint32
	for _, w := range status {
		p := uint32(w)
		sum += uint64(p - prev)
		prev = p
	}
	return sum
}

// checkInstances refuses a pair count the kernels cannot index.
func checkInstances(m uint64, n, views int) error {
	if m > maxInstances {
		return fmt.Errorf("cuda: %d Gaussians over %d views make %d (Gaussian, tile) pairs, over the %d one render can index; the cloud's splats are too many or too large for this many views at once",
			n, views, m, uint64(maxInstances))
	}
	return nil
}

// scanEpochs is where the scan's epoch counter wraps; its status words
// are cleared then (the epoch occupies 30 bits of each word's tag).
const scanEpochs = 1 << 30

// scan writes the exclusive prefix sum of n uint32 at in to out (in may be
// out) with one launch of the single-pass scan.
func (d *Device) scan(in, out uint64, n int) error {
	if n == 0 {
		return nil
	}
	ws := &d.ws
	nb := int(cdiv(n, scanChunk))
	if ws.scanStatus.size < uint64(8*nb) || ws.scanEpoch+1 >= scanEpochs {
		if err := d.ensure(&ws.scanStatus, uint64(8*nb), "scan status"); err != nil {
			return err
		}
		if err := d.memset0(ws.scanStatus.ptr, ws.scanStatus.size); err != nil {
			return err
		}
		ws.scanEpoch = 0
	}
	if ws.scanTicket.ptr == 0 {
		if err := d.ensure(&ws.scanTicket, 4, "scan ticket"); err != nil {
			return err
		}
		if err := d.memset0(ws.scanTicket.ptr, 4); err != nil {
			return err
		}
		ws.scanTickets = 0
	}
	ws.scanEpoch++
	base := ws.scanTickets
	ws.scanTickets += uint32(nb) // the counter wraps as the kernel's does
	return d.launch("scanExclusive", [3]uint32{uint32(nb), 1, 1}, [3]uint32{256, 1, 1}, in, out, uint32(n),
		ws.scanStatus.ptr, ws.scanTicket.ptr, base, ws.scanEpoch)
}

// sortPairs sorts segs segments of segLen (key, value) pairs each, in
// keys/vals (32-bit keys and values), by the low keyBits bits of the key,
// stably and each segment in place, ping-ponging with keysAlt/valsAlt, and
// returns the buffers holding the result.
func (d *Device) sortPairs(segLen, segs, keyBits int, keys, vals, keysAlt, valsAlt *devBuf) (uint64, uint64, error) {
	ws := &d.ws
	src, dst := [2]uint64{keys.ptr, vals.ptr}, [2]uint64{keysAlt.ptr, valsAlt.ptr}
	if segLen <= 1 || segs == 0 {
		return src[0], src[1], nil
	}
	nb := int(cdiv(segLen, sortChunk))
	if err := d.ensure(&ws.hist, uint64(4*256*nb*segs), "radix histogram"); err != nil {
		return 0, 0, err
	}
	grid := [3]uint32{uint32(nb), uint32(segs), 1}
	block := [3]uint32{256, 1, 1}
	for shift := 0; shift < keyBits; shift += 8 {
		if err := d.launch("radixHistogram", grid, block, src[0], uint32(segLen), int32(shift), ws.hist.ptr); err != nil {
			return 0, 0, err
		}
		if err := d.scan(ws.hist.ptr, ws.hist.ptr, 256*nb*segs); err != nil {
			return 0, 0, err
		}
		if err := d.launch("radixScatter", grid, block, src[0], src[1], dst[0], dst[1], uint32(segLen), int32(shift), ws.hist.ptr); err != nil {
			return 0, 0, err
		}
		src, dst = dst, src
	}
	return src[0], src[1], nil
}

// centreFirst returns the tiles of views views of tilesX × tilesY as
// view·tiles + tile, ordered by the distance of the tile's centre from the
// image centre (ties by index), the views interleaved: the raster kernels'
// block order. For an object in view the central tiles hold the longest
// lists; started first, they no longer start in a late wave and end the
// kernel alone (longest job first).
func centreFirst(views, tilesX, tilesY int) []uint32 {
	tiles := tilesX * tilesY
	rank := make([]int, tiles)
	for i := range rank {
		rank[i] = i
	}
	dist := func(t int) int { // squared, in half tiles
		dx, dy := 2*(t%tilesX)+1-tilesX, 2*(t/tilesX)+1-tilesY
		return dx*dx + dy*dy
	}
	slices.SortStableFunc(rank, func(a, b int) int { return cmp.Compare(dist(a), dist(b)) })
	out := make([]uint32, 0, views*tiles)
	for _, t := range rank {
		for v := range views {
			out = append(out, uint32(v*tiles+t))
		}
	}
	return out
}

// tileOrder returns the device copy of centreFirst for the batch,
// uploading it when the batch's shape changed; the caller holds the device.
func (d *Device) tileOrder(views, tilesX, tilesY int) (uint64, error) {
	ws := &d.ws
	key := [3]int{views, tilesX, tilesY}
	if ws.order.ptr != 0 && ws.orderFor == key {
		return ws.order.ptr, nil
	}
	ws.orderHost = centreFirst(views, tilesX, tilesY)
	if err := d.ensure(&ws.order, uint64(4*len(ws.orderHost)), "tile order"); err != nil {
		return 0, err
	}
	if err := upload(d, ws.order.ptr, ws.orderHost); err != nil {
		return 0, err
	}
	ws.orderFor = key
	return ws.order.ptr, nil
}

// binned is the state after projection, binning and sorting of a batch.
type binned struct {
	views, n   int
	vp         []viewParams
	mp         modeParams
	instances  int
	vals       uint64 // sorted Gaussian indices (view·n + i)
	tilesPerVw int
	// The chunk plan of a Forward (keep): chunk length and the raster
	// blocks launched (a bound on the work items; blocks past the plan's
	// count return at once).
	chunkLen, chunkBlocks int
}

// tileCull makes bin keep only the (Gaussian, tile) pairs where the
// Gaussian can reach α ≥ 1/255 at some pixel centre of the tile (binTiles
// in kernels/project.cu) instead of every tile of its rectangle; the
// dropped pairs are ones the rasterisers skip anyway, so no result
// changes. A variable for the tests (false: the reference).
var tileCull = true

// localSort makes bin skip the global per-view depth sort for renders
// (Render, the validator): the instances are written in index order,
// sorted by tile, and each tile's list is then sorted by (depth bits,
// view·n + index) in one block (tileDepthSort in kernels/project.cu),
// which is exactly the order the depth sort gives (within a tile: depth
// bits ascending, then view·n + index). localSortFit does the same for the
// fit path (Forward, FitBatch); it is off, as the fit's dense tiles
// (~6000 entries in a sphere init, past tileDepthSort's 4096-entry shared
// path) measured no faster so (docs/perf/cuda-notes.md, run 21), and the depth sort has no
// length limit. Variables for the tests (false: the global depth sort,
// the reference).
var localSort, localSortFit = true, false

// bin projects dc for every view, sorts the (tile, depth) keys and fills
// ws.ranges, through the local sort where local is set (see localSort);
// the caller holds the device.
func (d *Device) bin(dc *DeviceCloud, vp []viewParams, mp modeParams, shDeg int, local bool) (*binned, error) {
	ws := &d.ws
	v, n := len(vp), dc.n
	total := v * n
	b := &binned{views: v, n: n, vp: vp, mp: mp, tilesPerVw: int(vp[0].TilesX * vp[0].TilesY)}
	if err := checkBatch(n, v, b.tilesPerVw); err != nil {
		return nil, err
	}
	sz := func(per int) uint64 { return uint64(per * max(total, 1)) }
	for _, e := range []struct {
		b    *devBuf
		size uint64
		name string
	}{
		{&ws.views, uint64(len(vp)) * uint64(unsafe.Sizeof(viewParams{})), "views"},
		{&ws.xy, sz(8), "means"}, {&ws.conicOp, sz(16), "conics"}, {&ws.rgbd, sz(16), "colours"},
		{&ws.rects, sz(16), "rects"}, {&ws.masks, sz(4), "tile masks"}, {&ws.touched, sz(4), "tile counts"}, {&ws.offs, sz(4), "offsets"},
		{&ws.ranges, uint64(8 * v * b.tilesPerVw), "tile ranges"},
	} {
		if err := d.ensure(e.b, e.size, e.name); err != nil {
			return nil, err
		}
	}
	if err := upload(d, ws.views.ptr, vp); err != nil {
		return nil, err
	}
	if n == 0 {
		return b, d.memset0(ws.ranges.ptr, uint64(8*v*b.tilesPerVw))
	}
	cull := int32(0)
	if tileCull {
		cull = 1
	}
	err := d.launch("preprocess", [3]uint32{cdiv(n, 256), uint32(v), 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, mp.near, mp.perAxis, dc.pos.ptr, dc.logScale.ptr, dc.rot.ptr, dc.opLogit.ptr, dc.sh.ptr,
		int32(n), int32((dc.shDegree+1)*(dc.shDegree+1)), int32(shDeg), cull,
		ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, ws.rects.ptr, ws.masks.ptr, ws.touched.ptr)
	if err != nil {
		return nil, err
	}
	d.mark("preprocess")
	grid := [3]uint32{cdiv(total, 256), 1, 1}
	block := [3]uint32{256, 1, 1}
	// order is the depth order duplicateSorted walks (0: index order, the
	// local-sort path) and counts the tile counts in that order.
	order, counts := uint64(0), ws.touched.ptr
	if !local {
		// Stage 1: sort every view's Gaussians by depth (unbinned ones
		// last), one segment per view.
		for _, e := range []*devBuf{&ws.dkeys, &ws.dkeysAlt, &ws.dvals, &ws.dvalsAlt, &ws.cnt} {
			if err := d.ensure(e, sz(4), "depth order"); err != nil {
				return nil, err
			}
		}
		if err := d.launch("depthKeys", grid, block, int32(total), ws.touched.ptr, ws.rgbd.ptr, ws.dkeys.ptr, ws.dvals.ptr); err != nil {
			return nil, err
		}
		var err error
		if _, order, err = d.sortPairs(n, v, 32, &ws.dkeys, &ws.dvals, &ws.dkeysAlt, &ws.dvalsAlt); err != nil {
			return nil, err
		}
		d.mark("depth sort")
		if err := d.launch("gatherCounts", grid, block, int32(total), order, ws.touched.ptr, ws.cnt.ptr); err != nil {
			return nil, err
		}
		counts = ws.cnt.ptr
	}
	if err := d.scan(counts, ws.offs.ptr, total); err != nil {
		return nil, err
	}
	var tail [2]uint32
	if err := download(d, tail[:1], ws.offs.ptr+uint64(4*(total-1))); err != nil {
		return nil, err
	}
	if err := download(d, tail[1:], counts+uint64(4*(total-1))); err != nil {
		return nil, err
	}
	if d.atCountSync != nil {
		if err := d.atCountSync(); err != nil {
			return nil, err
		}
	}
	if err := d.sync(); err != nil {
		return nil, err
	}
	d.mark("scan+count")
	// The scan's offsets are 32-bit: a large cloud of large splats over
	// many views can make 2³² pairs or more and wrap them. The count is
	// taken in 64 bits (from the scan's per-chunk prefixes when the wrap
	// cannot be ruled out) and refused before any buffer is sized by it.
	var status []uint64
	if !fitsUint32(total, b.tilesPerVw) {
		status = make([]uint64, cdiv(total, scanChunk))
		if err := download(d, status, ws.scanStatus.ptr); err != nil {
			return nil, err
		}
	}
	m64 := instanceCount(tail, status)
	if err := checkInstances(m64, n, v); err != nil {
		return nil, err
	}
	b.instances = int(m64)
	m := b.instances
	for _, e := range []struct {
		b    *devBuf
		size uint64
	}{{&ws.keys, uint64(4 * m)}, {&ws.keysAlt, uint64(4 * m)}, {&ws.vals, uint64(4 * m)}, {&ws.valsAlt, uint64(4 * m)}} {
		if err := d.ensure(e.b, e.size, "tile keys"); err != nil {
			return nil, fmt.Errorf("%d Gaussians over %d views make %d (Gaussian, tile) pairs, more than the device holds: %w", n, v, m, err)
		}
	}
	if err := d.memset0(ws.ranges.ptr, uint64(8*v*b.tilesPerVw)); err != nil {
		return nil, err
	}
	b.vals = ws.vals.ptr
	if m == 0 {
		return b, nil
	}
	// Stage 2: one key per (Gaussian, tile) in depth (or index) order,
	// stably sorted by tile.
	err = d.launch("duplicateSorted", grid, block, int32(total), int32(n), cull, ws.views.ptr, order, ws.touched.ptr,
		ws.offs.ptr, ws.rects.ptr, ws.masks.ptr, ws.xy.ptr, ws.conicOp.ptr, ws.keys.ptr, ws.vals.ptr)
	if err != nil {
		return nil, err
	}
	d.mark("duplicate")
	keys, vals, err := d.sortPairs(m, 1, bits.Len(uint(v*b.tilesPerVw-1)), &ws.keys, &ws.vals, &ws.keysAlt, &ws.valsAlt)
	if err != nil {
		return nil, err
	}
	b.vals = vals
	err = d.launch("tileRanges", [3]uint32{cdiv(m, 256), 1, 1}, [3]uint32{256, 1, 1}, keys, uint32(m), ws.ranges.ptr)
	d.mark("tile sort")
	if err != nil || !local {
		return b, err
	}
	// Stage 3 (local sort): each tile's list, in index order, by (depth,
	// index); the tile keys' buffer is free now and holds the long lists'
	// depth bits.
	tiles, err := d.tileOrder(v, int(vp[0].TilesX), int(vp[0].TilesY))
	if err != nil {
		return nil, err
	}
	err = d.launch("tileDepthSort", [3]uint32{uint32(v * b.tilesPerVw), 1, 1}, [3]uint32{256, 1, 1},
		ws.ranges.ptr, tiles, ws.rgbd.ptr, vals, keys)
	d.mark("tile depth sort")
	return b, err
}

package splat

import "math"

// sortByDepth fills f.order with the binned Gaussians in increasing depth.
// Depths are positive floats, so their bit patterns sort as unsigned
// integers; an LSD radix sort (stable, so equal depths keep index order, as
// the reference's stable (tile, depth) radix sort does) orders them.
func (f *frame) sortByDepth(n int) {
	m := 0
	for i := range n {
		if f.rect[i][1] > f.rect[i][0] {
			m++
		}
	}
	f.order = grow(f.order, m)
	f.keys = grow(f.keys, m)
	f.tmpK = grow(f.tmpK, m)
	f.tmpV = grow(f.tmpV, m)
	j := 0
	for i := range n {
		if f.rect[i][1] > f.rect[i][0] {
			f.order[j] = int32(i)
			f.keys[j] = math.Float32bits(f.sp[i].depth)
			j++
		}
	}
	radixSort(f.keys, f.order, f.tmpK, f.tmpV)
}

// radixSort sorts keys ascending, permuting vals alongside, stably; tmpK and
// tmpV are scratch of the same length.
func radixSort(keys []uint32, vals []int32, tmpK []uint32, tmpV []int32) {
	var count [256]int
	for shift := uint(0); shift < 32; shift += 8 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&0xff]++
		}
		if len(keys) > 0 && count[(keys[0]>>shift)&0xff] == len(keys) {
			continue // every key has the same digit: this pass would not move anything
		}
		sum := 0
		for d := range count {
			count[d], sum = sum, sum+count[d]
		}
		for i, k := range keys {
			d := (k >> shift) & 0xff
			tmpK[count[d]] = k
			tmpV[count[d]] = vals[i]
			count[d]++
		}
		copy(keys, tmpK)
		copy(vals, tmpV)
	}
}

// bin builds the per-tile lists. Walking the Gaussians in depth order and
// appending each to every tile of its rectangle leaves every tile's list
// depth-sorted — the same order as the reference's global (tile, depth) sort
// without sorting tile × Gaussian pairs.
func (f *frame) bin() {
	nt := f.v.tilesX * f.v.tilesY
	f.tileOff = grow(f.tileOff, nt+1)
	clear(f.tileOff)
	tx := f.v.tilesX
	for _, g := range f.order {
		r := f.rect[g]
		for y := r[2]; y < r[3]; y++ {
			row := f.tileOff[int(y)*tx+1:]
			for x := r[0]; x < r[1]; x++ {
				row[x]++
			}
		}
	}
	for t := range nt {
		f.tileOff[t+1] += f.tileOff[t]
	}
	f.list = grow(f.list, int(f.tileOff[nt]))
	f.fill = grow(f.fill, nt)
	fill := f.fill
	copy(fill, f.tileOff[:nt])
	for _, g := range f.order {
		r := f.rect[g]
		for y := r[2]; y < r[3]; y++ {
			row := fill[int(y)*tx:]
			for x := r[0]; x < r[1]; x++ {
				f.list[row[x]] = g
				row[x]++
			}
		}
	}
}

package cuda

import (
	"fmt"

	"github.com/splatbench/splatbench/pipeline/fit"
)

// lossView is one resident view as kernels/loss.cu reads it (struct
// LossView): offsets, in floats, of its straight RGB and its alpha.
type lossView struct{ RGB, Alpha uint32 }

// lossBufs is the device memory of the image loss: the resident views and
// the blur planes, plus two generations of per-slot sums (S, Σ|x − y|,
// Σℓ(α − α*)) so one can be read back while the next is written.
type lossBufs struct {
	pix, views devBuf
	k          int
	sizes      [][2]int // per view: width, height
	tmp, abc   devBuf
	sums       [2]devBuf
}

func (lb *lossBufs) free(d *Device) {
	for _, b := range []*devBuf{&lb.pix, &lb.views, &lb.tmp, &lb.abc, &lb.sums[0], &lb.sums[1]} {
		d.freeBuf(b)
	}
}

// uploadViews copies every view's straight RGB and alpha to the device;
// the caller holds the device and syncs before the views change.
func (d *Device) uploadViews(lb *lossBufs, views []fit.View) error {
	total := 0
	for _, v := range views {
		total += 4 * v.Camera.Width * v.Camera.Height
	}
	pix := make([]float32, 0, total)
	table := make([]lossView, len(views))
	lb.sizes = make([][2]int, len(views))
	for i, v := range views {
		table[i].RGB = uint32(len(pix))
		pix = append(pix, v.RGB...)
		table[i].Alpha = uint32(len(pix))
		pix = append(pix, v.Alpha...)
		lb.sizes[i] = [2]int{v.Camera.Width, v.Camera.Height}
	}
	lb.k = len(views)
	if err := d.ensure(&lb.pix, uint64(4*len(pix)), "loss views"); err != nil {
		return err
	}
	if err := d.ensure(&lb.views, uint64(8*len(table)), "loss view table"); err != nil {
		return err
	}
	if err := upload(d, lb.pix.ptr, pix); err != nil {
		return err
	}
	return upload(d, lb.views.ptr, table)
}

// lossStep says which renders the loss compares with which views.
type lossStep struct {
	first, batch int // slot b is view (first + b) mod k
	w, h         int
	bg           [3]float32
	gen          int // which sums generation to write
}

// lossWeights are the kernels' gradient coefficients for one batch: the
// per-view means of fit's loss, averaged over the batch.
func lossWeights(opt fit.Options, w, h, batch int) (l1g, ssimK, alphaG float32) {
	n3 := float64(3 * w * h)
	m := float64(w * h)
	wt := 1 / float64(batch)
	return float32((1 - opt.LambdaDSSIM) / n3 * wt), float32(-opt.LambdaDSSIM / n3 * wt), float32(opt.LambdaAlpha / m * wt)
}

// launchLoss queues the loss of the renders at rgb/alpha (batch slots of
// one size) and writes its gradients to dRGB/dAlpha; the sums land in
// lb.sums[s.gen]. The caller holds the device.
func (d *Device) launchLoss(lb *lossBufs, s lossStep, opt fit.Options, rgb, alpha, dRGB, dAlpha uint64) error {
	hw := s.w * s.h
	p3 := uint64(3 * hw * s.batch)
	if err := d.ensure(&lb.tmp, 4*5*p3, "loss blur planes"); err != nil {
		return err
	}
	if err := d.ensure(&lb.abc, 4*3*p3, "loss partials"); err != nil {
		return err
	}
	sums := &lb.sums[s.gen]
	if err := d.ensure(sums, uint64(8*3*s.batch), "loss sums"); err != nil {
		return err
	}
	if err := d.memset0(sums.ptr, uint64(8*3*s.batch)); err != nil {
		return err
	}
	grid := [3]uint32{cdiv(hw, 256), uint32(s.batch), 1}
	block := [3]uint32{256, 1, 1}
	first, k, w, h := int32(s.first), int32(lb.k), int32(s.w), int32(s.h)
	bg := s.bg
	mse := int32(0)
	if opt.AlphaLoss == fit.AlphaMSE {
		mse = 1
	}
	l1g, ssimK, alphaG := lossWeights(opt, s.w, s.h, s.batch)
	if err := d.launch("ssimBlurH", grid, block, rgb, lb.pix.ptr, lb.views.ptr, first, k, w, h, bg[0], bg[1], bg[2], lb.tmp.ptr); err != nil {
		return err
	}
	if err := d.launch("ssimMap", grid, block, rgb, alpha, lb.pix.ptr, lb.views.ptr, first, k, w, h, bg[0], bg[1], bg[2], mse,
		lb.tmp.ptr, lb.abc.ptr, sums.ptr); err != nil {
		return err
	}
	if err := d.launch("ssimGradH", grid, block, lb.abc.ptr, w, h, lb.tmp.ptr); err != nil {
		return err
	}
	return d.launch("lossGrad", grid, block, rgb, alpha, lb.pix.ptr, lb.views.ptr, first, k, w, h, bg[0], bg[1], bg[2], mse,
		l1g, ssimK, alphaG, lb.tmp.ptr, dRGB, dAlpha)
}

// lossFromSums turns one batch's sums into fit's weighted loss terms,
// averaged over the batch.
func lossFromSums(sums []float64, opt fit.Options, w, h, batch int) fit.Loss {
	n3 := float64(3 * w * h)
	m := float64(w * h)
	var l fit.Loss
	for b := range batch {
		s, a1, aa := sums[3*b], sums[3*b+1], sums[3*b+2]
		l.L1 += (1 - opt.LambdaDSSIM) * a1 / n3
		if opt.LambdaDSSIM > 0 {
			l.DSSIM += opt.LambdaDSSIM * (1 - s/n3)
		}
		l.Alpha += opt.LambdaAlpha * aa / m
	}
	l.L1 /= float64(batch)
	l.DSSIM /= float64(batch)
	l.Alpha /= float64(batch)
	l.Total = l.L1 + l.DSSIM + l.Alpha
	return l
}

// ImageLoss evaluates the fit's image loss (fit.ImageLoss: L1 + D-SSIM +
// alpha, weighted by opt) on the device for one render per view, all of
// one size, composited on bg, and returns the loss averaged over the views
// with its gradients (each view's gradient divided by the view count).
func (d *Device) ImageLoss(views []fit.View, bg [3]float32, rgb, alpha [][]float32, opt fit.Options) (fit.Loss, [][]float32, [][]float32, error) {
	if len(views) == 0 || len(rgb) != len(views) || len(alpha) != len(views) {
		return fit.Loss{}, nil, nil, fmt.Errorf("cuda: image loss: %d views, %d RGB and %d alpha renders", len(views), len(rgb), len(alpha))
	}
	w, h := views[0].Camera.Width, views[0].Camera.Height
	hw := w * h
	for i, v := range views {
		if v.Camera.Width != w || v.Camera.Height != h || len(v.RGB) != 3*hw || len(v.Alpha) != hw ||
			len(rgb[i]) != 3*hw || len(alpha[i]) != hw {
			return fit.Loss{}, nil, nil, fmt.Errorf("cuda: image loss: view %d is not %d×%d RGB+alpha like view 0, or its render is not", i, w, h)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	var lb lossBufs
	var bufs [4]devBuf // rgb, alpha, dRGB, dAlpha
	defer func() {
		lb.free(d)
		for i := range bufs {
			d.freeBuf(&bufs[i])
		}
	}()
	if err := d.uploadViews(&lb, views); err != nil {
		return fit.Loss{}, nil, nil, err
	}
	nv := len(views)
	for i, size := range []int{3 * hw * nv, hw * nv, 3 * hw * nv, hw * nv} {
		if err := d.ensure(&bufs[i], uint64(4*size), "image loss"); err != nil {
			return fit.Loss{}, nil, nil, err
		}
	}
	for i := range views {
		if err := upload(d, bufs[0].ptr+uint64(12*i*hw), rgb[i]); err != nil {
			return fit.Loss{}, nil, nil, err
		}
		if err := upload(d, bufs[1].ptr+uint64(4*i*hw), alpha[i]); err != nil {
			return fit.Loss{}, nil, nil, err
		}
	}
	s := lossStep{first: 0, batch: nv, w: w, h: h, bg: bg}
	if err := d.launchLoss(&lb, s, opt, bufs[0].ptr, bufs[1].ptr, bufs[2].ptr, bufs[3].ptr); err != nil {
		return fit.Loss{}, nil, nil, err
	}
	sums := make([]float64, 3*nv)
	dRGB, dAlpha := make([][]float32, nv), make([][]float32, nv)
	if err := download(d, sums, lb.sums[0].ptr); err != nil {
		return fit.Loss{}, nil, nil, err
	}
	for i := range views {
		dRGB[i], dAlpha[i] = make([]float32, 3*hw), make([]float32, hw)
		if err := download(d, dRGB[i], bufs[2].ptr+uint64(12*i*hw)); err != nil {
			return fit.Loss{}, nil, nil, err
		}
		if err := download(d, dAlpha[i], bufs[3].ptr+uint64(4*i*hw)); err != nil {
			return fit.Loss{}, nil, nil, err
		}
	}
	if err := d.sync(); err != nil {
		return fit.Loss{}, nil, nil, err
	}
	return lossFromSums(sums, opt, w, h, nv), dRGB, dAlpha, nil
}

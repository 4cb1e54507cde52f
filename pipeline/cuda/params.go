package cuda

import (
	"fmt"
	"unsafe"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// viewParams is one camera as the kernels read it (struct View in
// kernels/common.cuh: 27 four-byte words, same order).
type viewParams struct {
	R                                  [9]float32
	T                                  [3]float32
	CamPos                             [3]float32
	Fx, Fy, Cx, Cy                     float32
	LimXNeg, LimXPos, LimYNeg, LimYPos float32
	W, H, TilesX, TilesY               int32
}

const (
	tileSize = splat.TileSize
)

func init() {
	if unsafe.Sizeof(viewParams{}) != 27*4 {
		panic("cuda: viewParams layout does not match struct View")
	}
}

// newViewParams mirrors splat's newViewCtx (project.go).
func newViewParams(cam splat.Camera) viewParams {
	v := viewParams{
		Fx: float32(cam.Fx), Fy: float32(cam.Fy), Cx: float32(cam.Cx), Cy: float32(cam.Cy),
		W: int32(cam.Width), H: int32(cam.Height),
		TilesX: int32((cam.Width + tileSize - 1) / tileSize), TilesY: int32((cam.Height + tileSize - 1) / tileSize),
	}
	for i := range 9 {
		v.R[i] = float32(cam.R[i])
	}
	pos := cam.Position()
	for i := range 3 {
		v.T[i] = float32(cam.T[i])
		v.CamPos[i] = float32(pos[i])
	}
	v.LimXNeg, v.LimXPos, v.LimYNeg, v.LimYPos = cam.FrustumLimits()
	return v
}

// modeParams are the per-mode constants as the kernels take them, from
// splat's own definition of the modes.
type modeParams struct {
	near, alphaMax, stopAt float32
	perAxis                int32
}

func paramsFor(m splat.Mode) (modeParams, error) {
	c, err := m.Constants()
	if err != nil {
		return modeParams{}, fmt.Errorf("cuda: %w", err)
	}
	p := modeParams{near: c.Near, alphaMax: c.AlphaMax, stopAt: c.StopAt}
	if c.PerAxisRadius {
		p.perAxis = 1
	}
	return p, nil
}

func shDegree(opt splat.RenderOptions, c *splat.Cloud) int {
	if opt.SHDegree < 0 || opt.SHDegree > c.SHDegree {
		return c.SHDegree
	}
	return opt.SHDegree
}

// checkInputs validates the cloud and cameras like the CPU engine and
// requires one image size for the batch.
func checkInputs(c *splat.Cloud, cams []splat.Camera) error {
	if c == nil {
		return fmt.Errorf("%w: nil cloud", splat.ErrInvalidCloud)
	}
	n := c.Len()
	if c.SHDegree < 0 || c.SHDegree > splat.MaxSHDegree {
		return fmt.Errorf("%w: SH degree %d outside 0..%d", splat.ErrInvalidCloud, c.SHDegree, splat.MaxSHDegree)
	}
	if len(c.Pos) != 3*n || len(c.LogScale) != 3*n || len(c.Rot) != 4*n || len(c.SH) != 3*c.K()*n {
		return fmt.Errorf("%w: array lengths pos %d, scale %d, rot %d, sh %d do not match %d Gaussians of SH degree %d",
			splat.ErrInvalidCloud, len(c.Pos), len(c.LogScale), len(c.Rot), len(c.SH), n, c.SHDegree)
	}
	for i, cam := range cams {
		if cam.Width <= 0 || cam.Height <= 0 || cam.Width > 1<<15 || cam.Height > 1<<15 {
			return fmt.Errorf("view %d: %w: image size %d×%d", i, splat.ErrBadCamera, cam.Width, cam.Height)
		}
		if !(cam.Fx > 0) || !(cam.Fy > 0) {
			return fmt.Errorf("view %d: %w: focal lengths fx=%v fy=%v must be positive", i, splat.ErrBadCamera, cam.Fx, cam.Fy)
		}
	}
	return nil
}

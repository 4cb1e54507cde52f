package pod

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"time"

	"github.com/splatbench/splatbench/pipeline/imagefile"
)

// permanent marks a download failure that another attempt cannot fix (a
// 4xx, an image over the limits, not an image).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// fetch downloads and decodes p's image: each attempt within
// DownloadTimeout, up to DownloadAttempts attempts while the failure may be
// transient, backing off from RetryBackoff. The error is the reason that
// goes into _failed.json.
func (s *Server) fetch(ctx context.Context, p Prompt) (image.Image, error) {
	u, err := url.Parse(p.ImageURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("image download failed: image_url %q is not an http(s) URL", clip(p.ImageURL, 200))
	}
	wait := s.opts.RetryBackoff
	var last error
	for attempt := 1; attempt <= s.opts.DownloadAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, fmt.Errorf("image download cancelled: %w", last)
			}
			wait *= 2
		}
		img, err := s.fetchOnce(ctx, p, u.String())
		if err == nil {
			return img, nil
		}
		last = err
		if isPermanent(err) || ctx.Err() != nil {
			break
		}
		s.log.Debug("image download retry", "stem", p.Stem, "attempt", attempt, "err", err)
	}
	return nil, fmt.Errorf("image download failed: %w", last)
}

func (s *Server) fetchOnce(ctx context.Context, p Prompt, u string) (image.Image, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, permanent{err}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch c := resp.StatusCode; {
	case c == http.StatusOK:
	case c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500:
		return nil, fmt.Errorf("HTTP %d from %s", c, req.URL.Host)
	default:
		return nil, permanent{fmt.Errorf("HTTP %d from %s", c, req.URL.Host)}
	}
	img, _, err := imagefile.Decode(resp.Body, "of "+p.Stem, s.opts.Image)
	if errors.Is(err, imagefile.ErrTooLarge) || errors.Is(err, imagefile.ErrFormat) {
		return nil, permanent{err}
	}
	return img, err
}

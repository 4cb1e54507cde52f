package miner

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestClockEstimate(t *testing.T) {
	t.Parallel()
	s := time.Second
	ms := time.Millisecond
	t0 := time.Unix(1_000_000, 0)
	// date makes the bounds of an answer stamped date (whole seconds after
	// t0) and sent and received at the given offsets from t0.
	date := func(dateS int, sent, received time.Duration) func(*clockEstimate) {
		return func(c *clockEstimate) {
			c.addDate(dateBounds(t0.Add(time.Duration(dateS)*s), t0.Add(sent), t0.Add(received)))
		}
	}
	upper := func(u time.Duration) func(*clockEstimate) { return func(c *clockEstimate) { c.addUpper(u) } }
	tests := []struct {
		name  string
		steps []func(*clockEstimate)
		want  time.Duration
		known bool
	}{
		{"nothing known", nil, 0, false},
		// The validator stamped 100 s while our clock read 103.2–103.5 s:
		// it runs at least 3.5 s behind.
		{"one date, behind", []func(*clockEstimate){date(100, 103200*ms, 103500*ms)}, -3500 * ms, true},
		{"one date, ahead", []func(*clockEstimate){date(130, 100*s, 100100*ms)}, 29900 * ms, true},
		{"tightest of several", []func(*clockEstimate){date(100, 103200*ms, 103500*ms), date(200, 203900*ms, 204*s),
			date(300, 303500*ms, 303600*ms)}, -3500 * ms, true},
		{"slow answer only loosens", []func(*clockEstimate){date(100, 103900*ms, 104*s), date(200, 203*s, 210*s)}, -4 * s, true},
		{"clock stepped back", []func(*clockEstimate){date(100, 100*s, 100100*ms), date(150, 160*s, 160100*ms)}, -10100 * ms, true},
		{"refusal without dates", []func(*clockEstimate){upper(-1200 * ms)}, -3400 * ms, true},
		{"refusal above estimate ignored", []func(*clockEstimate){upper(2 * s)}, 0, true},
		{"lowest refusal wins", []func(*clockEstimate){upper(-5 * s), upper(-1 * s)}, -11 * s, true},
		{"refusal contradicts dates", []func(*clockEstimate){date(100, 100*s, 100100*ms), upper(-2 * s)}, -5 * s, true},
		// A refusal is kept across Dates: a validator whose Date header
		// says its clock agrees while its cooldowns run 30 s behind is not
		// re-learnt (with early pulls) at every Date.
		{"refusal outlives dates", []func(*clockEstimate){upper(-30 * s), date(100, 100*s, 100100*ms),
			date(400, 400*s, 400100*ms)}, -61 * s, true},
		{"consistent date and refusal", []func(*clockEstimate){upper(-1 * s), date(100, 102*s, 102200*ms)}, -2200 * ms, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c clockEstimate
			for _, st := range tc.steps {
				st(&c)
			}
			if got := c.lower(); got != tc.want {
				t.Errorf("lower() = %v, want %v", got, tc.want)
			}
			if c.known() != tc.known {
				t.Errorf("known() = %v, want %v", c.known(), tc.known)
			}
		})
	}
	t.Run("refusal forgotten after a clock step", func(t *testing.T) {
		t.Parallel()
		var c clockEstimate
		c.addUpper(-30 * s)
		for i := range maxContradictions {
			if got := c.lower(); got != -61*s {
				t.Fatalf("after %d contradicting dates lower() = %v, want the refusal's -61s", i, got)
			}
			date(100*i, time.Duration(100*i)*s, time.Duration(100*i)*s+100*ms)(&c)
		}
		if got := c.lower(); got != -100*ms {
			t.Errorf("after %d contradicting dates lower() = %v, want the dates' -100ms", maxContradictions, got)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		var c clockEstimate
		for i := range 3 * maxClockSamples {
			date(i, time.Duration(i)*s, time.Duration(i)*s+100*ms)(&c)
		}
		if len(c.samples) != maxClockSamples {
			t.Errorf("%d samples kept, want %d", len(c.samples), maxClockSamples)
		}
	})
}

type headerRT struct{ date string }

func (h headerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	hdr := http.Header{}
	if h.date != "" {
		hdr.Set("Date", h.date)
	}
	return &http.Response{StatusCode: http.StatusUnauthorized, Header: hdr, Body: http.NoBody, Request: req}, nil
}

func TestDateTransport(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 25, 20, 30, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		record bool
		want   time.Time
	}{
		{"recorded, error status too", want.Format(http.TimeFormat), true, want},
		{"no record asked", want.Format(http.TimeFormat), false, time.Time{}},
		{"no header", "", true, time.Time{}},
		{"bad header", "yesterday", true, time.Time{}},
		{"RFC 850", want.Format(time.RFC850), true, want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &dateRecord{}
			ctx := context.Background()
			if tc.record {
				ctx = context.WithValue(ctx, dateKey{}, rec)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://10.0.0.1:8092/PullTask", http.NoBody)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := dateTransport{headerRT{tc.header}}.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := rec.get(); !got.Equal(tc.want) {
				t.Errorf("recorded %v, want %v", got, tc.want)
			}
		})
	}
}

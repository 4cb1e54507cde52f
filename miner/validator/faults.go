package validator

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// Faults are transport faults injected before the axon sees a request
// (docs/protocol.md §7.1 item 8). Rates are probabilities in [0, 1] drawn from a PCG seeded
// with Seed and the validator UID, so runs are reproducible. A faulted
// request never reaches the validator's state.
type Faults struct {
	Seed uint64
	// Latency delays every answer; beyond the miner's timeout the miner
	// sees a timeout (408 in the Python dendrite).
	Latency time.Duration
	// HangRate is the share of requests held until the client gives up.
	HangRate float64
	// ServerErrorRate is the share answered 500 {"message": …}.
	ServerErrorRate float64
	// GarbageRate is the share answered 200 with a body that is not JSON.
	GarbageRate float64
	// DropRate is the share whose connection is closed without an answer
	// (503 in the Python dendrite).
	DropRate float64
	// ClockSkew shifts the validator's clock (nonce window, cooldowns and
	// the answers' Date header).
	ClockSkew time.Duration
	// SerialValidation scores one result at a time (a slow validator).
	SerialValidation bool
}

func (f Faults) validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"HangRate", f.HangRate}, {"ServerErrorRate", f.ServerErrorRate}, {"GarbageRate", f.GarbageRate}, {"DropRate", f.DropRate}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("validator: Faults.%s = %g, want a probability in [0, 1]", r.name, r.v)
		}
	}
	if f.Latency < 0 {
		return errors.New("validator: Faults.Latency is negative")
	}
	return nil
}

type fault int

const (
	faultNone fault = iota
	faultHang
	faultServerError
	faultGarbage
	faultDrop
)

func (v *Validator) drawFault() fault {
	f := v.opts.Faults
	if f.HangRate == 0 && f.ServerErrorRate == 0 && f.GarbageRate == 0 && f.DropRate == 0 {
		return faultNone
	}
	v.mu.Lock()
	x := v.faultRNG.Float64()
	v.mu.Unlock()
	for _, c := range []struct {
		rate float64
		f    fault
	}{{f.HangRate, faultHang}, {f.ServerErrorRate, faultServerError}, {f.GarbageRate, faultGarbage}, {f.DropRate, faultDrop}} {
		if x < c.rate {
			return c.f
		}
		x -= c.rate
	}
	return faultNone
}

// withFaults wraps the axon with the configured faults. It never reads a
// body: that is the axon's job, after authentication and within its limit.
func (v *Validator) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := v.drawFault()
		if d := v.opts.Faults.Latency; d > 0 && !wait(r, d) {
			return
		}
		switch f {
		case faultHang:
			v.count(func(c *FaultCounts) { c.Hangs++ })
			// Held until the caller has given up; a server only notices a
			// client gone once the body is read, so the wait ends on the
			// caller's own deadline, then the connection is dropped.
			if wait(r, callerDeadline(r)) {
				drop(w)
			}
			return
		case faultServerError:
			v.count(func(c *FaultCounts) { c.ServerErrors++ })
			w.Header()["content-type"] = []string{"application/json"}
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message": "Internal Server Error (injected fault)"}`))
			return
		case faultGarbage:
			v.count(func(c *FaultCounts) { c.Garbage++ })
			w.Header()["content-type"] = []string{"application/json"}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
			return
		case faultDrop:
			v.count(func(c *FaultCounts) { c.Drops++ })
			drop(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// wait waits d or until r's context ends; false when it ended first.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// callerDeadline is how long r's caller waits for an answer: its timeout
// header (the dendrite's own deadline) plus a second; the PullTask
// timeout when the header is missing or out of range.
func callerDeadline(r *http.Request) time.Duration {
	t, err := strconv.ParseFloat(r.Header.Get("timeout"), 64)
	if err != nil || math.IsNaN(t) || t < 0 || t > bittensor.MaxTimeout {
		t = bittensor.PullTaskTimeout
	}
	return time.Duration(t*float64(time.Second)) + time.Second
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without a response
}

// withDate stamps every answer's Date header from the validator's clock,
// ClockSkew included, as a server on a skewed machine would.
func (v *Validator) withDate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", v.now().UTC().Format(http.TimeFormat))
		next.ServeHTTP(w, r)
	})
}

func (v *Validator) count(f func(*FaultCounts)) {
	v.mu.Lock()
	f(&v.faults)
	v.mu.Unlock()
}

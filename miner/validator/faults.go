package validator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// Faults are transport faults injected before the axon sees a request
// (§7.1 item 8). Rates are probabilities in [0, 1] drawn from a PCG seeded
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
	// ClockSkew shifts the validator's clock (nonce window, cooldowns).
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

// withFaults wraps the axon with the configured faults.
func (v *Validator) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := v.drawFault()
		if f == faultHang || v.opts.Faults.Latency > 0 {
			// Read the body first: Go's server notices a client that gave up
			// (and cancels r.Context) only once the body has been consumed.
			body, err := io.ReadAll(io.LimitReader(r.Body, bittensor.DefaultMaxBodyBytes))
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if d := v.opts.Faults.Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch f {
		case faultHang:
			v.count(func(c *FaultCounts) { c.Hangs++ })
			<-r.Context().Done()
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
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
		next.ServeHTTP(w, r)
	})
}

func (v *Validator) count(f func(*FaultCounts)) {
	v.mu.Lock()
	f(&v.faults)
	v.mu.Unlock()
}

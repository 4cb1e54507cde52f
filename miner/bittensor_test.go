package miner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// memTransport serves dendrite requests from in-process axons by host:port,
// without sockets, so the whole exchange runs inside a synctest bubble. A
// handler still running when the caller's context ends is abandoned (the
// caller sees its timeout) and finishes on its own, as over a network.
type memTransport struct {
	axons map[string]http.Handler
	wg    sync.WaitGroup
}

func (t *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := t.axons[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("dial %s: connection refused", req.URL.Host)
	}
	done := make(chan *http.Response, 1)
	// The handler must outlive a cancelled request, as a server does.
	sreq := req.Clone(context.WithoutCancel(req.Context()))
	t.wg.Go(func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, sreq)
		done <- rec.Result()
	})
	select {
	case r := <-done:
		return r, nil
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}

// axonFor serves one fake validator's state through a real bittensor axon:
// real headers, transport signatures, nonces and submission signatures.
func axonFor(t testing.TB, f *fakeValidator, key *bittensor.Keypair, delay func(method string) time.Duration) http.Handler {
	ax, err := bittensor.NewAxon(bittensor.AxonOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ax.Attach(bittensor.NamePullTask, func(ctx context.Context, req *bittensor.Request) (bittensor.Synapse, error) {
		r := f.pull()
		time.Sleep(delay("pull"))
		out := req.Body.(*bittensor.PullTask)
		out.ValidationThreshold, out.ThrottlePeriod = r.ValidationThreshold, int64(r.ThrottlePeriod)
		out.CooldownUntil, out.CooldownViolations = r.CooldownUntil, int64(r.CooldownViolations)
		if r.Task != nil {
			out.Task = &bittensor.Task{Type: r.Task.Type, ID: r.Task.ID, Prompt: r.Task.Prompt}
		}
		return out, nil
	}, nil)
	ax.Attach(bittensor.NameSubmitResults, func(ctx context.Context, req *bittensor.Request) (bittensor.Synapse, error) {
		in := req.Body.(*bittensor.SubmitResults)
		r, err := f.submit(Submission{TaskID: in.TaskID, Results: in.Results, SubmitTime: in.SubmitTime, Signature: in.Signature})
		time.Sleep(delay("submit"))
		if err != nil {
			return nil, &bittensor.StatusError{Code: 403, Message: err.Error()}
		}
		in.Results, in.Signature, in.CooldownUntil = "", "", r.CooldownUntil
		fb := r.Feedback
		in.Feedback = &bittensor.Feedback{ValidationFailed: fb.ValidationFailed, TaskFidelityScore: fb.TaskFidelityScore,
			CurrentDuelRating: fb.CurrentDuelRating}
		return in, nil
	}, nil)
	return ax
}

// TestDendriteClient mines three validators served by real bittensor axons
// through the real dendrite for two virtual hours, one validator slow
// beyond the pull timeout now and then: no early pull, every signature
// verifies, every task is accounted for.
func TestDendriteClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		minerKey, err := bittensor.KeypairFromURI("//Miner")
		if err != nil {
			t.Fatal(err)
		}
		tr := &memTransport{axons: map[string]http.Handler{}}
		var vals []Validator
		var fakes []*fakeValidator
		for i := range 3 {
			key, err := bittensor.KeypairFromURI(fmt.Sprintf("//Validator%d", i))
			if err != nil {
				t.Fatal(err)
			}
			v := Validator{UID: i, Hotkey: key.SS58(), Address: fmt.Sprintf("10.0.0.%d:8092", i+1)}
			f := newFakeValidator(v.Hotkey, nil)
			f.verify = func(s Submission, prompt string) bool {
				return bittensor.VerifySubmissionSignature(s.Signature, s.SubmitTime, prompt, v.Hotkey, minerKey.SS58()) == nil
			}
			calls := 0
			slow := i == 2
			tr.axons[v.Address] = axonFor(t, f, key, func(method string) time.Duration {
				calls++
				if slow && method == "pull" && calls%3 == 0 {
					return 20 * time.Second // beyond the 12 s client timeout
				}
				return 0
			})
			vals, fakes = append(vals, v), append(fakes, f)
		}
		d, err := bittensor.NewDendrite(bittensor.DendriteOptions{Key: minerKey, Client: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Options{Validators: vals, Workers: 2, Threshold: 0.6}, DendriteClient{Dendrite: d},
			&fakeGen{took: 30 * time.Second}, KeypairSigner{Hotkey: minerKey}, testLogger(t), newRegistry())
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, m, 2*time.Hour)
		tr.wg.Wait()
		st := m.Stats()
		var issued, submitted, open int
		for _, f := range fakes {
			if f.violationsTotal != 0 || f.badSigs != 0 {
				t.Errorf("validator %s: %d violations, %d bad signatures", f.hotkey, f.violationsTotal, f.badSigs)
			}
			issued, submitted, open = issued+f.issued, submitted+f.submitted, open+len(f.open)
		}
		if issued != submitted+open || submitted < 40 {
			t.Errorf("issued %d, submitted %d, open %d", issued, submitted, open)
		}
		if st.PullFailures == 0 {
			t.Errorf("the slow validator's timeouts were not seen")
		}
		t.Logf("2 h, 3 validators over the dendrite: issued %d, submitted %d (accepted %d, empty %d), pull timeouts %d",
			issued, submitted, st.Accepted, st.Empty, st.PullFailures)
	})
}

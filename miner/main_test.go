package miner

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// world is a set of fake validators behind a fake network.
type world struct {
	vals   []Validator
	net    *fakeNet
	signer fakeSigner
}

func newWorld(n int) *world {
	pub, key, err := ed25519.GenerateKey(zeroReader{})
	if err != nil {
		panic(err)
	}
	w := &world{net: &fakeNet{vals: map[string]*fakeValidator{}}, signer: fakeSigner{key: key}}
	for i := range n {
		v := Validator{UID: 10 + i, Hotkey: fmt.Sprintf("5Validator%02d", i), Address: fmt.Sprintf("10.0.0.%d:8092", i+1)}
		w.vals = append(w.vals, v)
		w.net.vals[v.Hotkey] = newFakeValidator(v.Hotkey, pub)
	}
	return w
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func (w *world) fv(i int) *fakeValidator { return w.net.vals[w.vals[i].Hotkey] }

// totals sums the fake validators' accounting.
func (w *world) totals() (t struct{ pulls, violations, issued, submitted, accepted, rejected, empty, badSigs, open int }) {
	for _, f := range w.net.vals {
		f.mu.Lock()
		t.pulls += f.pulls
		t.violations += f.violationsTotal
		t.issued += f.issued
		t.submitted += f.submitted
		t.accepted += f.accepted
		t.rejected += f.rejected
		t.empty += f.empty
		t.badSigs += f.badSigs
		t.open += len(f.open)
		f.mu.Unlock()
	}
	return t
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// newMiner builds a miner over w with the given options (validators filled
// in) and a fresh registry.
func newMiner(t testing.TB, w *world, opts Options, gen Generator) (*Miner, *prometheus.Registry) {
	t.Helper()
	if opts.Validators == nil {
		opts.Validators = w.vals
	}
	reg := prometheus.NewRegistry()
	m, err := New(opts, w.net, gen, w.signer, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// runFor runs m for d of (virtual) time, then stops it and waits.
func runFor(t testing.TB, m *Miner, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	time.Sleep(d)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

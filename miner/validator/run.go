package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// shutdownGrace bounds how long in-flight requests may finish on shutdown.
const shutdownGrace = 5 * time.Second

// Run serves on addr until ctx ends, then shuts down and saves the state.
func (v *Validator) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("validator uid %d: %w", v.opts.UID, err)
	}
	return v.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Info's port becomes ln's port.
func (v *Validator) Serve(ctx context.Context, ln net.Listener) error {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		v.setPort(a.Port)
	}
	srv := &http.Server{Handler: v.handler,
		ReadHeaderTimeout: min(10*time.Second, v.opts.RequestTimeout),
		ReadTimeout:       v.opts.RequestTimeout, // a slow body is cut off here
		WriteTimeout:      2 * v.opts.RequestTimeout,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(v.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	v.log.Info("validator serving", "addr", ln.Addr().String(), "hotkey", v.Hotkey())
	select {
	case err := <-errc:
		v.persist()
		return fmt.Errorf("validator uid %d: %w", v.opts.UID, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // hung requests (HangRate) end here
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && serr != nil {
		err = errors.Join(err, serr)
	}
	v.persist()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // forced close after the grace period is a normal shutdown
	}
	return err
}

func (v *Validator) persist() {
	v.mu.Lock()
	v.save()
	v.mu.Unlock()
}

// Group is several validators in one process, each on its own port.
type Group struct {
	Validators []*Validator
	wg         sync.WaitGroup
	mu         sync.Mutex
	errs       []error
}

// RunMany starts n validators with keys //Validator0 … //Validator<n-1>,
// UIDs 0…n-1, on ports basePort+i of opts.IP (basePort 0: ephemeral
// ports), each with its own state file (opts.StatePath + ".<i>" when set).
// Stakes alternate above and below the 1000 a miner requires. It returns
// once all are listening; they stop when ctx ends (Group.Wait).
func RunMany(ctx context.Context, n, basePort int, opts Options, log *slog.Logger) (*Group, error) {
	if n <= 0 {
		return nil, fmt.Errorf("validator: RunMany needs n > 0, got %d", n)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Group{}
	lns := make([]net.Listener, 0, n)
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for i := range n {
		o := opts
		key, err := bittensor.KeypairFromURI("//Validator" + strconv.Itoa(i))
		if err != nil {
			closeAll()
			return nil, err
		}
		o.Key, o.UID, o.Faults.Seed = key, i, opts.Faults.Seed+uint64(i)
		if o.Stake == 0 {
			o.Stake = 10000
			if i%4 == 3 {
				o.Stake = 500 // below the miner's 1000 minimum (docs/protocol.md §7.7)
			}
		}
		if opts.StatePath != "" {
			o.StatePath = opts.StatePath + "." + strconv.Itoa(i)
		}
		ip := o.IP
		if ip == "" {
			ip = "127.0.0.1"
		}
		port := 0
		if basePort > 0 {
			port = basePort + i
		}
		v, err := New(o, log)
		if err != nil {
			closeAll()
			return nil, err
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("validator uid %d: %w", i, err)
		}
		lns = append(lns, ln)
		g.Validators = append(g.Validators, v)
	}
	for i, v := range g.Validators {
		ln := lns[i]
		v.setPort(ln.Addr().(*net.TCPAddr).Port)
		g.wg.Go(func() {
			if err := v.Serve(ctx, ln); err != nil {
				g.mu.Lock()
				g.errs = append(g.errs, err)
				g.mu.Unlock()
			}
		})
	}
	return g, nil
}

// Infos are the metagraph entries of the group's validators.
func (g *Group) Infos() []bittensor.AxonInfo {
	out := make([]bittensor.AxonInfo, len(g.Validators))
	for i, v := range g.Validators {
		out[i] = v.Info()
	}
	return out
}

// Wait blocks until every validator has stopped and returns their errors.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}

// Summaries returns each validator's summary.
func (g *Group) Summaries() []Summary {
	out := make([]Summary, len(g.Validators))
	for i, v := range g.Validators {
		out[i] = v.Summary()
	}
	return out
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner"
	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/ort"
)

type mineOptions struct {
	profileOptions
	validators    string
	minStake      float64
	walletPath    string
	walletName    string
	hotkey        string
	hotkeySeed    string
	externalIP    string
	workers       int
	state         string
	metricsListen string
	genTimeout    time.Duration
	grace         time.Duration
	duration      time.Duration
	allowEmpty    bool
	allowRandom   bool
	queue         queueOptions
}

func mineCommand() *command {
	o := &mineOptions{}
	return &command{
		name:    "mine",
		summary: "mine on subnet 17 with a chosen profile (PullTask / SubmitResults)",
		usage:   "splatbench mine --validators FILE [--profile PROFILE] [flags]",
		long: `Pulls tasks from every validator at once, each on its own cooldown (never
early), generates in a pool of --workers pipelines, checks its own output
against the profile's score threshold (score.threshold) and submits an empty,
penalty-free result below it, and signs and submits SPZ results the way the
subnet's validators expect. Cooldowns, held tasks and counters persist in
--state, so a restart resumes held tasks instead of pulling early.

Validators come from --validators FILE, a YAML or JSON list of {uid, hotkey,
address, stake}: chain (metagraph) discovery is not built yet. Entries with a
stake below --min-stake are skipped. 'splatbench validator' writes such a file.
The hotkey is a Bittensor wallet's (--wallet-path/--wallet-name/--hotkey) or,
for development, --hotkey-seed (a 32-byte hex seed or a secret URI like
//Alice). Prometheus metrics are served on --metrics-listen at /metrics.

Exit status: 0 after --duration, 1 on a fatal error, 2 on bad flags or
configuration, 130 when interrupted (held tasks stay in --state).

Examples:
  splatbench mine --validators runs/validators/validators.yaml --profile fast --hotkey-seed //Miner
  splatbench mine --validators validators.yaml --wallet-name miner --hotkey default \
      --profile runs/20261125-203000-tune/profiles/best-reward-rate.yaml --workers 2
  splatbench mine --validators validators.yaml --profile fast --set score.threshold=0.65`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.validators, "validators", "", "validators file: YAML/JSON list of {uid, hotkey, address, stake}")
			fs.Float64Var(&o.minStake, "min-stake", 1000, "skip validators whose listed stake is below this")
			fs.StringVar(&o.walletPath, "wallet-path", "~/.bittensor/wallets", "Bittensor wallets directory")
			fs.StringVar(&o.walletName, "wallet-name", "default", "wallet name")
			fs.StringVar(&o.hotkey, "hotkey", "default", "hotkey name in the wallet")
			fs.StringVar(&o.hotkeySeed, "hotkey-seed", "", "development: hotkey from a hex seed or a secret URI (//Alice) instead of a wallet")
			fs.StringVar(&o.externalIP, "external-ip", "", "this machine's external IP (sent as bt_header_dendrite_ip)")
			fs.IntVar(&o.workers, "workers", 1, "generations at once (one pipeline each; one per GPU)")
			fs.StringVar(&o.state, "state", "", "state file (default <out>/miner-state.json)")
			fs.StringVar(&o.metricsListen, "metrics-listen", "127.0.0.1:9108", `address of /metrics ("": off)`)
			fs.DurationVar(&o.genTimeout, "generate-timeout", 280*time.Second, "deadline of one generation (0: none)")
			fs.DurationVar(&o.grace, "shutdown-grace", 15*time.Second, "on Ctrl-C, how long in-flight generations and submissions may finish")
			fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until interrupted)")
			fs.BoolVar(&o.allowEmpty, "allow-empty-text", false, "mine validators that send free text with a profile that cannot generate it (every text task is answered empty)")
			fs.BoolVar(&o.allowRandom, "allow-random-weights", false, "mine with models marked as having random weights (tools/make_gpu_models.py's: every result is noise), to exercise the loop")
			o.profileOptions.addFlags(fs)
			o.queue.addFlags(fs, true)
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("mine takes no arguments")
			}
			return runMine(ctx, e, o)
		},
	}
}

// minerHotkey loads the signing hotkey from --hotkey-seed or the wallet.
func (o *mineOptions) minerHotkey() (*bittensor.Keypair, error) {
	if o.hotkeySeed != "" {
		if strings.HasPrefix(o.hotkeySeed, "/") || strings.Contains(o.hotkeySeed, " ") {
			k, err := bittensor.KeypairFromURI(o.hotkeySeed)
			if err != nil {
				return nil, fmt.Errorf("%w: --hotkey-seed: %w", errUsage, err)
			}
			return k, nil
		}
		k, err := bittensor.KeypairFromSeedHex(o.hotkeySeed)
		if err != nil {
			return nil, fmt.Errorf("%w: --hotkey-seed: %w", errUsage, err)
		}
		return k, nil
	}
	dir := o.walletPath
	if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("%w: --wallet-path %s: %w", errUsage, dir, err)
		}
		dir = filepath.Join(home, rest)
	}
	k, err := bittensor.LoadHotkey(dir, o.walletName, o.hotkey)
	if err != nil {
		return nil, fmt.Errorf("%w: hotkey %s: %w (or pass --hotkey-seed for a development key)", errUsage,
			bittensor.HotkeyPath(dir, o.walletName, o.hotkey), err)
	}
	return k, nil
}

func runMine(ctx context.Context, e *env, o *mineOptions) error {
	if o.validators == "" {
		return fmt.Errorf("%w: validator discovery from the chain; list validators in a file and pass --validators FILE", errNotBuilt)
	}
	if o.workers < 1 {
		return usageErrorf("--workers must be >= 1")
	}
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	p.Encoding.Format = "spz" // validators decode SPZ only (docs/protocol.md §1.4)
	vals, err := miner.LoadValidators(o.validators, o.minStake, e.log)
	if err != nil {
		return fmt.Errorf("%w: --validators: %w", errUsage, err)
	}
	if err := miner.CheckTextCapability(vals, pipeline.CapabilitiesOf(p), o.allowEmpty); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if !o.allowRandom {
		if err := refuseRandomWeights(p, "mining with them submits noise under your hotkey"); err != nil {
			return err
		}
	}
	key, err := o.minerHotkey()
	if err != nil {
		return err
	}
	if o.state == "" {
		o.state = filepath.Join(e.global.out, "miner-state.json")
	}
	if err := os.MkdirAll(filepath.Dir(o.state), 0o755); err != nil {
		return fmt.Errorf("--state: %w", err)
	}

	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	if err := checkWorkers(ctx, e, b, p, o.workers, o.queue.url != ""); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	// Generation runs as jobs on the queue: an embedded server with
	// --workers in-process lanes unless --nats names one.
	gen, stopGen, err := o.queue.minerGenerator(ctx, e, b, p, o.workers, o.state, reg)
	if err != nil {
		return err
	}
	defer stopGen()

	// NewDendriteClient reads validators' Date headers: cooldowns are on
	// each validator's clock.
	client, err := miner.NewDendriteClient(bittensor.DendriteOptions{Key: key, ExternalIP: o.externalIP, Log: e.log})
	if err != nil {
		return err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := miner.New(miner.Options{Validators: vals, Workers: o.workers, Threshold: p.Score.Threshold,
		StateFile: o.state, GenerateTimeout: o.genTimeout, ShutdownGrace: o.grace},
		client, gen, miner.KeypairSigner{Hotkey: key}, e.log, reg)
	if err != nil {
		return usageErrorf("%v", err)
	}

	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	stopMetrics, err := serveMetrics(o.metricsListen, reg, e)
	if err != nil {
		return err
	}
	e.log.Info("mining", "hotkey", key.SS58(), "validators", len(vals), "profile", p.Name,
		"workers", o.workers, "threshold", p.Score.Threshold, "state", o.state, "metrics", o.metricsListen)
	runErr := m.Run(ctx)
	stopMetrics()
	writeMinerStats(e, m.Stats())
	if runErr != nil {
		return runErr
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil // --duration ran out: a clean stop
	}
	return ctx.Err()
}

// serveMetrics serves reg on addr at /metrics until the returned stop runs.
func serveMetrics(addr string, reg *prometheus.Registry, e *env) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// GET /metrics only: no body to wait for, a scrape answers in well under 30 s.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("metrics server", "err", err)
		}
	}()
	e.log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// writeMinerStats prints the per-validator totals at exit.
func writeMinerStats(e *env, st miner.Stats) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "uid\taddress\tpulled\tsubmitted\taccepted\tempty\trejected\tval. failed\tpull fails\tsubmit fails\treleased\tmean score\tcooldown wait\tholding")
	for _, v := range st.Validators {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.3f\t%s\t%s\n", v.UID, v.Address, v.Pulled,
			v.Submitted, v.Accepted, v.Empty, v.Rejected, v.ValidationFail, v.PullFailures, v.SubmitFailures,
			v.Released, v.MeanScore, (time.Duration(v.CooldownWaitSeconds) * time.Second).String(), v.Holding)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t%s\t%d held\n", st.Pulled, st.Submitted,
		st.Accepted, st.Empty, st.Rejected, st.ValidationFail, st.PullFailures, st.SubmitFailures, st.Released,
		(time.Duration(st.CooldownWaitSeconds) * time.Second).String(), st.Held)
	_ = tw.Flush()
}

// refuseRandomWeights is a usage error when the profile names models
// marked as having random weights (pipeline.RandomWeightFiles): made for
// timing, they answer noise; why says what that costs here. A model that
// cannot be found is left to the stage that loads it.
func refuseRandomWeights(p configs.Profile, why string) error {
	random, err := pipeline.RandomWeightFiles(p)
	if err != nil || len(random) == 0 {
		return nil
	}
	return usageErrorf("profile %s names models with random weights (%s=%s, made for timing): %s. %s; "+
		"point the profile at trained weights, or pass --allow-random-weights to exercise the loop",
		p.Name, ort.WeightsKey, ort.RandomWeights, strings.Join(random, ", "), why)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/miner"
	"github.com/splatbench/splatbench/miner/validator"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results/atomicfile"
)

type validatorOptions struct {
	count      int
	basePort   int
	host       string
	stateDir   string
	listOut    string
	promptsSrc string
	scorer     string
	passScore  float64
	miners     []string
	duration   time.Duration

	cooldown, throttle, penalty time.Duration
	validationLock              time.Duration
	threshold                   float64
	faults                      validator.Faults
}

func validatorCommand() *command {
	o := &validatorOptions{}
	return &command{
		name:    "validator",
		summary: "run faithful local validators to dry-run a miner offline",
		usage:   "splatbench validator [--count N] [--base-port PORT] [flags]",
		long: `Runs N local subnet-17 validators (Era B: PullTask / SubmitResults over the
bittensor axon transport, with the real cooldown, throttle, penalty, violation,
signature and nonce rules), validator i with hotkey //Validator<i>, UID i, on
port --base-port+i. Any miner hotkey registers on first contact unless --miners
lists them. Stakes alternate 10000 / 500 (every fourth is below the 1000 a miner
requires), as a metagraph would have them.

It writes the validators file the miner reads (uid, hotkey, address, stake) to
--validators-out and prints it. Task prompts are, by default, the prompts of the
built-in reference scenes ("a red cube", ...), which the default pipeline (its
text2img source is the reference scenes) can generate; --prompts default uses
the embedded text corpus, --prompts FILE a prompt file. Results are scored by
the structural gate scorer: decode the SPZ, apply the validity gates (>= 7000
splats, opacities, rotations) and give --pass-score to a valid result, 0 to an
invalid one. It measures validity, not fidelity.

Faults (--latency, --hang-rate, --error-rate, --garbage-rate, --drop-rate,
--clock-skew, --serial-validation) are injected before a request reaches the
validator's state. Per-miner state persists under --state across restarts. At
exit (Ctrl-C or --duration) a per-validator, per-miner summary table is printed.

Exit status: 0 after --duration, 130 when interrupted, 2 on bad flags.

Examples:
  splatbench validator --count 4
  splatbench validator --count 8 --base-port 9000 --drop-rate 0.05 --hang-rate 0.02
  splatbench validator --task-cooldown 60s --prompts default --duration 10m`,
		flags: func(fs *pflag.FlagSet) {
			fs.IntVar(&o.count, "count", 4, "number of validators")
			fs.IntVar(&o.basePort, "base-port", 8091, "port of validator 0; validator i listens on base-port+i (0: ephemeral ports)")
			fs.StringVar(&o.host, "listen-host", "127.0.0.1", "address the validators listen on and advertise")
			fs.StringVar(&o.stateDir, "state", "", "directory of the validators' state files and the validators file (default <out>/validators)")
			fs.StringVar(&o.listOut, "validators-out", "", `where to write the miner's validators file (default <state>/validators.yaml; "-": print only)`)
			fs.StringVar(&o.promptsSrc, "prompts", "scenes", "task prompts: scenes (the reference-scene prompts), default (the embedded corpus) or a prompt file")
			fs.StringVar(&o.scorer, "scorer", "gate", "gate (validity gates, --pass-score when valid) or fixed (--pass-score for every result)")
			fs.Float64Var(&o.passScore, "pass-score", 1, "score a valid result gets")
			fs.StringSliceVar(&o.miners, "miners", nil, "registered miner hotkeys (SS58, comma-separated); default: any hotkey registers")
			fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until interrupted)")
			fs.DurationVar(&o.cooldown, "task-cooldown", 300*time.Second, "cooldown after each task")
			fs.DurationVar(&o.throttle, "throttle", 30*time.Second, "throttle period credited against the cooldown")
			fs.DurationVar(&o.penalty, "penalty", 600*time.Second, "extra cooldown after a rejected result or a bad signature")
			fs.DurationVar(&o.validationLock, "validation-lock", 30*time.Second, "after a submission starts validating, a resubmit within this long gets feedback only (shorten it with --task-cooldown in demos)")
			fs.Float64Var(&o.threshold, "threshold", 0.6, "acceptance threshold")
			fs.DurationVar(&o.faults.Latency, "latency", 0, "fault: delay every answer by this much")
			fs.Float64Var(&o.faults.HangRate, "hang-rate", 0, "fault: share of requests held until the client gives up")
			fs.Float64Var(&o.faults.ServerErrorRate, "error-rate", 0, "fault: share of requests answered 500")
			fs.Float64Var(&o.faults.GarbageRate, "garbage-rate", 0, "fault: share of requests answered 200 with a non-JSON body")
			fs.Float64Var(&o.faults.DropRate, "drop-rate", 0, "fault: share of connections closed without an answer")
			fs.DurationVar(&o.faults.ClockSkew, "clock-skew", 0, "fault: shift the validators' clocks (e.g. 30s, -5s)")
			fs.BoolVar(&o.faults.SerialValidation, "serial-validation", false, "fault: score one result at a time")
			fs.Uint64Var(&o.faults.Seed, "fault-seed", 1, "seed of the fault draws (validator i uses seed+i)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("validator takes no arguments")
			}
			return runValidator(ctx, e, o)
		},
	}
}

// taskPrompts resolves --prompts to the validators' text prompts.
func taskPrompts(src string) ([]string, error) {
	var ps []prompts.Prompt
	switch src {
	case "scenes":
		var out []string
		for _, s := range scenes.All() {
			out = append(out, s.Prompt)
		}
		return out, nil
	case "default":
		ps = prompts.Default()
	default:
		var err error
		if ps, err = prompts.Load(src); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, p := range ps {
		if !p.IsImage() { // validators send text tasks only
			out = append(out, p.Text)
		}
	}
	if len(out) == 0 {
		return nil, usageErrorf("--prompts %s: no text prompts", src)
	}
	return out, nil
}

func (o *validatorOptions) options() (validator.Options, error) {
	switch {
	case o.count < 1:
		return validator.Options{}, usageErrorf("--count must be >= 1")
	case o.basePort < 0 || o.basePort+o.count-1 > 65535:
		return validator.Options{}, usageErrorf("--base-port %d: ports %d..%d are not all valid", o.basePort, o.basePort, o.basePort+o.count-1)
	case o.cooldown <= 0 || o.throttle < 0 || o.penalty < 0 || o.validationLock < 0:
		return validator.Options{}, usageErrorf("--task-cooldown must be > 0, --throttle, --penalty and --validation-lock >= 0")
	case o.threshold <= 0 || o.threshold > 1:
		return validator.Options{}, usageErrorf("--threshold %g: want a score in (0, 1]", o.threshold)
	}
	ps, err := taskPrompts(o.promptsSrc)
	if err != nil {
		return validator.Options{}, err
	}
	opts := validator.Options{IP: o.host, Miners: o.miners, Prompts: ps, TaskCooldown: o.cooldown,
		ThrottlePeriod: o.throttle, CooldownPenalty: o.penalty, ValidationLock: o.validationLock,
		QualityThreshold: o.threshold, Faults: o.faults}
	if o.throttle == 0 {
		opts.ThrottlePeriod = time.Nanosecond // zero means the 30 s default
	}
	if o.penalty == 0 {
		opts.CooldownPenalty = time.Nanosecond
	}
	if o.validationLock == 0 {
		opts.ValidationLock = time.Nanosecond
	}
	switch o.scorer {
	case "gate":
		opts.Scorer = validator.GateScorer{Pass: o.passScore}
	case "fixed":
		opts.Scorer = validator.FixedScorer(o.passScore)
	default:
		return validator.Options{}, usageErrorf("--scorer %q: want gate or fixed", o.scorer)
	}
	return opts, nil
}

func runValidator(ctx context.Context, e *env, o *validatorOptions) error {
	opts, err := o.options()
	if err != nil {
		return err
	}
	if o.stateDir == "" {
		o.stateDir = filepath.Join(e.global.out, "validators")
	}
	if err := os.MkdirAll(o.stateDir, 0o755); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	opts.StatePath = filepath.Join(o.stateDir, "validator-state.json")
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	g, err := validator.RunMany(ctx, o.count, o.basePort, opts, e.log)
	if err != nil {
		return err
	}
	entries := make([]miner.ValidatorEntry, 0, o.count)
	for _, info := range g.Infos() {
		stake := info.Stake
		entries = append(entries, miner.ValidatorEntry{UID: info.UID, Hotkey: info.Hotkey, Address: info.Addr(), Stake: &stake})
	}
	data, err := miner.MarshalValidators(entries)
	if err != nil {
		return err
	}
	if o.listOut == "" {
		o.listOut = filepath.Join(o.stateDir, "validators.yaml")
	}
	if o.listOut != "-" {
		if err := atomicfile.WriteFile(o.listOut, data, 0o644); err != nil {
			return fmt.Errorf("--validators-out: %w", err)
		}
		fmt.Fprintf(e.stderr, "%d validators serving; validators file: %s (splatbench mine --validators %s)\n",
			o.count, o.listOut, o.listOut)
	}
	e.stdout.Write(data)
	werr := g.Wait()
	for _, s := range g.Summaries() {
		fmt.Fprintln(e.stdout)
		if err := s.WriteText(e.stdout); err != nil {
			return err
		}
	}
	if werr != nil {
		return werr
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil // --duration ran out: a clean stop
	}
	return ctx.Err()
}

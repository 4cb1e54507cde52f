package validator

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/prompts"
)

// Options configure a Validator. Zero durations and thresholds take the
// Era-B defaults of docs/protocol.md §1.6 / §7.8.
type Options struct {
	Key   *bittensor.Keypair // validator hotkey; required
	UID   int
	IP    string // advertised in Info; default 127.0.0.1
	Port  int    // advertised in Info; Run and RunMany fill it in
	Stake float64

	// Miners are the registered miner hotkeys (the fake metagraph), UIDs in
	// order. Empty means any caller is registered on first contact, up to
	// MaxMiners.
	Miners    []string
	MaxMiners int // default 256

	Prompts    []string // task prompts; default prompts.Default()
	PromptSeed uint64   // order of the prompts
	// ImagePrompts are image tasks' prompts as they travel (base64 of a
	// PNG or JPEG), drawn in turn with Prompts; none by default. Whatever
	// they hold is sent: a test validator may send broken images.
	ImagePrompts []string
	Scorer       Scorer // default GateScorer{Pass: 1}
	StatePath    string // JSON state file; "" keeps state in memory only

	Now func() time.Time // default time.Now

	TaskCooldown         time.Duration // 300 s
	ThrottlePeriod       time.Duration // 30 s
	CooldownPenalty      time.Duration // 600 s
	ViolationThreshold   int           // 100
	ViolationPenalty     time.Duration // 10 s
	UnregisteredCooldown time.Duration // 3600 s
	ValidationLock       time.Duration // 30 s
	QualityThreshold     float64       // 0.6
	ObservationWindow    time.Duration // 4 h
	EMAAlpha             float64       // 0.05

	// RequestTimeout bounds reading one request, body included (default
	// the base miner's SubmitResults timeout plus 10 s: its caller has given
	// up by then); writing the answer may take as long again.
	RequestTimeout time.Duration

	// AllowUnsigned reproduces the axon quirk that skips the transport
	// signature check when none is sent.
	AllowUnsigned bool
	Faults        Faults
}

func (o *Options) defaults() error {
	if o.Key == nil {
		return errors.New("validator: Options.Key is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.TaskCooldown, 300*time.Second)
	def(&o.ThrottlePeriod, 30*time.Second)
	def(&o.CooldownPenalty, 600*time.Second)
	def(&o.ViolationPenalty, 10*time.Second)
	def(&o.UnregisteredCooldown, 3600*time.Second)
	def(&o.ValidationLock, 30*time.Second)
	def(&o.ObservationWindow, 4*time.Hour)
	def(&o.RequestTimeout, time.Duration(bittensor.SubmitResultsTimeout)*time.Second+10*time.Second)
	if o.ViolationThreshold == 0 {
		o.ViolationThreshold = 100
	}
	if o.QualityThreshold == 0 {
		o.QualityThreshold = bittensor.DefaultValidationThreshold
	}
	if o.EMAAlpha == 0 {
		o.EMAAlpha = 0.05
	}
	if o.MaxMiners == 0 {
		o.MaxMiners = 256
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Scorer == nil {
		o.Scorer = GateScorer{Pass: 1}
	}
	if len(o.Prompts) == 0 && len(o.ImagePrompts) == 0 {
		for _, p := range prompts.Default() {
			if !p.IsImage() {
				o.Prompts = append(o.Prompts, p.Text)
			}
		}
	}
	if len(o.Prompts) == 0 && len(o.ImagePrompts) == 0 {
		return errors.New("validator: no prompts")
	}
	return o.Faults.validate()
}

// Validator is one local validator.
type Validator struct {
	opts    Options
	log     *slog.Logger
	axon    *bittensor.Axon
	handler http.Handler
	prompts []bittensor.Task // type and prompt; ids are drawn per task

	mu       sync.Mutex
	st       *stateFile
	portSet  int
	faultRNG *rand.Rand
	faults   FaultCounts

	scoreMu sync.Mutex // serialises scoring when Faults.SerialValidation
}

// New builds a validator, loading its state from opts.StatePath if the file
// exists.
func New(opts Options, log *slog.Logger) (*Validator, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("validator_uid", opts.UID)
	st, err := loadState(opts.StatePath, opts.Key.SS58())
	if err != nil {
		return nil, err
	}
	v := &Validator{opts: opts, log: log, st: st, portSet: opts.Port,
		faultRNG: rand.New(rand.NewPCG(opts.Faults.Seed, uint64(opts.UID)))}
	for _, p := range opts.Prompts {
		v.prompts = append(v.prompts, bittensor.Task{Type: bittensor.TaskText, Prompt: p})
	}
	for _, p := range opts.ImagePrompts {
		v.prompts = append(v.prompts, bittensor.Task{Type: bittensor.TaskImage, Prompt: p})
	}
	r := rand.New(rand.NewPCG(opts.PromptSeed, 0x5eed))
	r.Shuffle(len(v.prompts), func(i, j int) { v.prompts[i], v.prompts[j] = v.prompts[j], v.prompts[i] })
	for i, hk := range opts.Miners {
		if _, ok := st.Miners[hk]; !ok {
			st.Miners[hk] = newMiner(hk, i)
		}
	}
	axon, err := bittensor.NewAxon(bittensor.AxonOptions{Key: opts.Key, Now: v.now, Log: log, AllowUnsigned: opts.AllowUnsigned})
	if err != nil {
		return nil, err
	}
	axon.Attach(bittensor.NamePullTask, v.handlePullTask, nil)
	axon.Attach(bittensor.NameSubmitResults, v.handleSubmitResults, v.blacklistSubmit)
	axon.Attach(bittensor.NameGetVersion, v.handleGetVersion, v.blacklistGetVersion)
	v.axon = axon
	v.handler = v.withDate(v.withFaults(axon))
	return v, nil
}

// Handler is the validator's HTTP handler (faults included).
func (v *Validator) Handler() http.Handler { return v.handler }

// Hotkey is the validator's SS58 address.
func (v *Validator) Hotkey() string { return v.opts.Key.SS58() }

// Info is the metagraph entry a miner needs to call this validator.
func (v *Validator) Info() bittensor.AxonInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	return bittensor.AxonInfo{UID: v.opts.UID, Hotkey: v.Hotkey(), IP: v.opts.IP, Port: v.portSet, Stake: v.opts.Stake}
}

func (v *Validator) setPort(p int) {
	v.mu.Lock()
	v.portSet = p
	v.mu.Unlock()
}

// now is the validator's clock, skewed by Faults.ClockSkew.
func (v *Validator) now() time.Time { return v.opts.Now().Add(v.opts.Faults.ClockSkew) }

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// miner returns the state of a registered miner, registering it on first
// contact when no fixed miner list is configured. Call with v.mu held.
func (v *Validator) miner(hotkey string) (*Miner, bool) {
	if m, ok := v.st.Miners[hotkey]; ok {
		return m, true
	}
	if len(v.opts.Miners) > 0 || len(v.st.Miners) >= v.opts.MaxMiners {
		return nil, false
	}
	if _, err := bittensor.SS58DecodePublic(hotkey); err != nil {
		return nil, false
	}
	m := newMiner(hotkey, len(v.st.Miners))
	v.st.Miners[hotkey] = m
	return m, true
}

// nextTask draws the next synthetic task.
func (v *Validator) nextTask() *bittensor.Task {
	t := v.prompts[v.st.NextTask%len(v.prompts)]
	v.st.NextTask++
	t.ID = uuid4()
	return &t
}

func uuid4() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// save persists the state; call with v.mu held. Failures are logged, not
// fatal: the validator keeps serving from memory.
func (v *Validator) save() {
	if err := v.st.save(v.opts.StatePath); err != nil {
		v.log.Error("saving validator state", "err", err)
	}
}

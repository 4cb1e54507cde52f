// Package validate is a local copy of subnet 17's Three.js validator: the
// static rules on the module's syntax tree, then one execution of
// generate(THREE) with the pinned three@0.183.2 under the time and heap
// limits, then the post-run checks on the returned root. Each failure
// carries the specification's stage and rule code
// (docs/competition-threejs.md of the shared reference; docs/threejs.md).
//
// The syntax tree comes from @babel/parser, the parser the subnet's own
// validator uses, run by node (set-up: scripts/setup-threejs.sh); the rules
// and the scope tracking are ours (js/static.mjs). A Go parser would be
// quicker to call but would differ from the subnet's on the edges that
// matter here (what is a literal, a binding, a directive, newer syntax), so
// it would be a second, unfaithful opinion. Execution runs in a fresh node
// process per module (js/exec.mjs), the subnet uses a fresh isolated-vm
// isolate: both are V8.
package validate

import (
	"bufio"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// Stages, as the runtime specification's error report names them.
const (
	StageParse          = "parse"
	StageStatic         = "static_analysis"
	StageModuleLoad     = "module_load"
	StageExecution      = "execution"
	StagePostValidation = "post_validation"
	StageRender         = "render"
)

// Rule codes of the output specification's failure table.
const (
	FileSizeExceeded        = "FILE_SIZE_EXCEEDED"
	ParseError              = "PARSE_ERROR"
	MissingDefaultExport    = "MISSING_DEFAULT_EXPORT"
	MultipleTopLevelExports = "MULTIPLE_TOP_LEVEL_EXPORTS"
	AsyncNotAllowed         = "ASYNC_NOT_ALLOWED"
	IdentifierNotAllowed    = "IDENTIFIER_NOT_ALLOWED"
	ForbiddenIdentifier     = "FORBIDDEN_IDENTIFIER"
	ForbiddenThreeAPI       = "FORBIDDEN_THREE_API"
	UnknownThreeAPI         = "UNKNOWN_THREE_API"
	ThreeAliasForbidden     = "THREE_ALIAS_FORBIDDEN"
	ThreeAtTopLevel         = "THREE_AT_TOP_LEVEL"
	ComputedPropertyAccess  = "COMPUTED_PROPERTY_ACCESS"
	LiteralBudgetExceeded   = "LITERAL_BUDGET_EXCEEDED"
	ExecutionThrew          = "EXECUTION_THREW"
	InvalidReturnType       = "INVALID_RETURN_TYPE"
	EmptyScene              = "EMPTY_SCENE"
	TimeoutExceeded         = "TIMEOUT_EXCEEDED"
	HeapExceeded            = "HEAP_EXCEEDED"
	CycleDetected           = "CYCLE_DETECTED"
	VertexLimitExceeded     = "VERTEX_LIMIT_EXCEEDED"
	DrawCallLimitExceeded   = "DRAW_CALL_LIMIT_EXCEEDED"
	DepthLimitExceeded      = "DEPTH_LIMIT_EXCEEDED"
	InstanceLimitExceeded   = "INSTANCE_LIMIT_EXCEEDED"
	TextureDataExceeded     = "TEXTURE_DATA_EXCEEDED"
	BoundingBoxOutOfRange   = "BOUNDING_BOX_OUT_OF_RANGE"
	RenderRunFailed         = "RENDER_RUN_FAILED"
)

// Limits are the specification's budgets; Spec returns the current round's.
type Limits struct {
	SourceBytes     int     `json:"sourceBytes"`
	LiteralBytes    int     `json:"literalBytes"`
	TimeoutMs       int     `json:"timeoutMs"`
	HeapBytes       int64   `json:"heapBytes"`
	MaxVertices     int     `json:"maxVertices"`
	MaxDrawCalls    int     `json:"maxDrawCalls"`
	MaxDepth        int     `json:"maxDepth"`
	MaxInstances    int     `json:"maxInstances"`
	MaxTextureBytes int64   `json:"maxTextureBytes"`
	HalfExtent      float64 `json:"halfExtent"`
}

// Spec is the output specification's limits (404-gen-subnet @ 0f26836).
func Spec() Limits {
	return Limits{
		SourceBytes: 1 << 20, LiteralBytes: 50 * 1024, TimeoutMs: 5000, HeapBytes: 256 << 20,
		MaxVertices: 250000, MaxDrawCalls: 200, MaxDepth: 32, MaxInstances: 50000,
		MaxTextureBytes: 4 << 20, HalfExtent: 0.5,
	}
}

// Failure is one broken rule, shaped like the subnet's error report.
type Failure struct {
	Stage  string `json:"stage"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

func (f Failure) String() string { return f.Stage + "/" + f.Rule + ": " + f.Detail }

// Metrics are what the post-run walk measured on the returned root.
type Metrics struct {
	Vertices     int          `json:"vertices"`
	DrawCalls    int          `json:"drawCalls"`
	Depth        int          `json:"depth"`
	Instances    int          `json:"instances"`
	TextureBytes int64        `json:"textureBytes"`
	BBox         [][3]float64 `json:"bbox"` // min, max; nil when empty
}

// Report is the outcome of a check. OK when Failures is empty.
type Report struct {
	SourceBytes  int       `json:"sourceBytes"`
	LiteralBytes int       `json:"literalBytes"`
	Failures     []Failure `json:"failures,omitempty"`
	Metrics      *Metrics  `json:"metrics,omitempty"`
	LoadMs       float64   `json:"loadMs,omitempty"`
	GenerateMs   float64   `json:"generateMs,omitempty"`
}

// OK reports whether the module passed every check that ran.
func (r Report) OK() bool { return len(r.Failures) == 0 }

// Err is nil for a passing report, else an error naming the first failure.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return &RuleError{Failures: r.Failures}
}

// RuleError is a module that broke the rules.
type RuleError struct{ Failures []Failure }

func (e *RuleError) Error() string {
	s := e.Failures[0].String()
	if n := len(e.Failures) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}

// Has reports whether the report contains the rule code.
func (r Report) Has(rule string) bool {
	for _, f := range r.Failures {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// Assets are the files set-up puts in <cache>/threejs.
type Assets struct {
	Node         string // node executable
	BabelParser  string // @babel/parser's lib/index.js
	ThreeModule  string // three/three.module.js (three.core.js beside it)
	ThreeVersion string
}

// FindAssets locates node and the set-up's files; the error says what is
// missing and to run make setup.
func FindAssets() (Assets, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return Assets{}, fmt.Errorf("threejs: node not found on PATH: %w", err)
	}
	dir := ort.CacheDir()
	if dir == "" {
		return Assets{}, errors.New("threejs: no cache directory (set SPLATBENCH_CACHE)")
	}
	a := Assets{
		Node:         node,
		BabelParser:  filepath.Join(dir, "threejs", "babel-parser.js"),
		ThreeModule:  filepath.Join(dir, "threejs", "three", "three.module.js"),
		ThreeVersion: "0.183.2",
	}
	for _, p := range []string{a.BabelParser, a.ThreeModule, filepath.Join(filepath.Dir(a.ThreeModule), "three.core.js")} {
		if _, err := os.Stat(p); err != nil {
			return Assets{}, fmt.Errorf("threejs: %s not found; run make setup (scripts/setup-threejs.sh)", p)
		}
	}
	return a, nil
}

//go:embed js/*.mjs
var scripts embed.FS

// Validator checks modules. Static checks go to one long-lived node worker
// (serialised); each execution gets a fresh node process. Safe for
// concurrent use. Close it when done.
type Validator struct {
	assets Assets
	limits Limits
	dir    string // the embedded scripts, written out

	mu     sync.Mutex
	worker *worker
	nextID int
}

// New prepares a validator with the given limits (Spec() for the subnet's).
func New(assets Assets, limits Limits) (*Validator, error) {
	dir, err := os.MkdirTemp("", "splatbench-threejs-")
	if err != nil {
		return nil, fmt.Errorf("threejs: %w", err)
	}
	for _, name := range []string{"static.mjs", "exec.mjs"} {
		b, _ := scripts.ReadFile("js/" + name)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("threejs: %w", err)
		}
	}
	return &Validator{assets: assets, limits: limits, dir: dir}, nil
}

// Limits returns the validator's limits.
func (v *Validator) Limits() Limits { return v.limits }

// Close ends the worker and removes the scripts.
func (v *Validator) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.worker != nil {
		v.worker.stop()
		v.worker = nil
	}
	return os.RemoveAll(v.dir)
}

// Check runs the static checks, then (when they pass) the execution and
// post-run checks: what the subnet does before it renders.
func (v *Validator) Check(ctx context.Context, src []byte) (Report, error) {
	r, err := v.Static(ctx, src)
	if err != nil || !r.OK() {
		return r, err
	}
	x, err := v.Execute(ctx, src)
	x.SourceBytes, x.LiteralBytes = r.SourceBytes, r.LiteralBytes
	return x, err
}

type worker struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *strings.Builder
}

func (w *worker) stop() {
	w.in.Close()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

func (v *Validator) startWorker() (*worker, error) {
	cmd := exec.Command(v.assets.Node, filepath.Join(v.dir, "static.mjs"), v.assets.BabelParser, v.assets.ThreeModule)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("threejs: start node static checker: %w", err)
	}
	return &worker{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16), stderr: &stderr}, nil
}

// staticTimeout bounds one static check (babel and the walk are linear; a
// worker that does not answer in this time is killed and the check fails).
const staticTimeout = 20 * time.Second

// Static runs the parse and static-analysis rules only.
func (v *Validator) Static(ctx context.Context, src []byte) (Report, error) {
	r := Report{SourceBytes: len(src)}
	if len(src) > v.limits.SourceBytes {
		r.Failures = append(r.Failures, Failure{StageParse, FileSizeExceeded, fmt.Sprintf("%d bytes, limit %d", len(src), v.limits.SourceBytes)})
		return r, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.worker == nil {
		w, err := v.startWorker()
		if err != nil {
			return r, err
		}
		v.worker = w
	}
	v.nextID++
	id := v.nextID
	req, _ := json.Marshal(struct {
		ID  int    `json:"id"`
		Src string `json:"src"`
	}{id, string(src)})
	type reply struct {
		ID           int       `json:"id"`
		Failures     []Failure `json:"failures"`
		LiteralBytes int       `json:"literalBytes"`
		Error        string    `json:"error"`
	}
	done := make(chan error, 1)
	var rep reply
	w := v.worker
	go func() {
		if _, err := w.in.Write(append(req, '\n')); err != nil {
			done <- err
			return
		}
		line, err := w.out.ReadBytes('\n')
		if err != nil {
			done <- err
			return
		}
		done <- json.Unmarshal(line, &rep)
	}()
	timer := time.NewTimer(staticTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = fmt.Errorf("no answer in %v", staticTimeout)
	}
	if err == nil && rep.ID != id {
		err = fmt.Errorf("answer for request %d, want %d", rep.ID, id)
	}
	if err == nil && rep.Error != "" {
		err = errors.New(rep.Error)
	}
	if err != nil {
		w.stop()
		v.worker = nil
		return r, fmt.Errorf("threejs: static checker: %w (node: %s)", err, strings.TrimSpace(w.stderr.String()))
	}
	r.Failures = rep.Failures
	r.LiteralBytes = rep.LiteralBytes
	return r, nil
}

// Execute evaluates the module and calls generate(THREE) in a fresh node
// with the heap limit, stops it at the time limit, and checks the returned
// root. It does not run the static checks (Check does both).
func (v *Validator) Execute(ctx context.Context, src []byte) (Report, error) {
	r := Report{SourceBytes: len(src)}
	tmp, err := os.MkdirTemp("", "splatbench-module-")
	if err != nil {
		return r, fmt.Errorf("threejs: %w", err)
	}
	defer os.RemoveAll(tmp)
	mod := filepath.Join(tmp, "module.mjs")
	if err := os.WriteFile(mod, src, 0o644); err != nil {
		return r, fmt.Errorf("threejs: %w", err)
	}
	lim, _ := json.Marshal(v.limits)
	heapMB := v.limits.HeapBytes >> 20
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.assets.Node, fmt.Sprintf("--max-old-space-size=%d", heapMB),
		filepath.Join(v.dir, "exec.mjs"), v.assets.ThreeModule, mod, string(lim))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp}
	var stdout strings.Builder
	cmd.Stdout = &limitedWriter{w: &stdout, n: 1 << 20}
	// The clock starts when the harness has loaded three and says ready.
	rw := &readyWriter{ready: make(chan struct{}), rest: limitedWriter{w: &strings.Builder{}, n: 8192}}
	cmd.Stderr = rw
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("threejs: start node: %w", err)
	}
	ready := rw.ready
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	timedOut := false
	select {
	case <-ready:
		timer := time.NewTimer(time.Duration(v.limits.TimeoutMs) * time.Millisecond)
		select {
		case err = <-waitErr:
		case <-timer.C:
			timedOut = true
			cancel()
			err = <-waitErr
		}
		timer.Stop()
	case err = <-waitErr:
	}
	if timedOut {
		r.Failures = append(r.Failures, Failure{StageExecution, TimeoutExceeded, fmt.Sprintf("killed after %d ms", v.limits.TimeoutMs)})
		return r, nil
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	se := rw.rest.w.(*strings.Builder).String()
	if err != nil {
		if strings.Contains(se, "heap out of memory") || strings.Contains(se, "Allocation failed") {
			r.Failures = append(r.Failures, Failure{StageExecution, HeapExceeded, fmt.Sprintf("V8 heap limit %d MB reached", heapMB)})
			return r, nil
		}
		if strings.Contains(se, "Maximum call stack") {
			r.Failures = append(r.Failures, Failure{StageExecution, ExecutionThrew, "Maximum call stack size exceeded"})
			return r, nil
		}
		return r, fmt.Errorf("threejs: execution harness: %w: %s", err, lastLines(se, 5))
	}
	var rep struct {
		Failures []Failure `json:"failures"`
		Metrics  *Metrics  `json:"metrics"`
		Timings  struct {
			LoadMs     float64 `json:"loadMs"`
			GenerateMs float64 `json:"generateMs"`
		} `json:"timings"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		return r, fmt.Errorf("threejs: execution harness reply: %w (stderr: %s)", err, lastLines(se, 5))
	}
	r.Failures, r.Metrics = rep.Failures, rep.Metrics
	r.LoadMs, r.GenerateMs = rep.Timings.LoadMs, rep.Timings.GenerateMs
	return r, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	_, err := l.w.Write(q)
	return len(p), err
}

// readyWriter closes ready when the first line "ready" arrives and keeps
// what follows.
type readyWriter struct {
	ready chan struct{}
	line  []byte
	seen  bool
	rest  limitedWriter
}

func (w *readyWriter) Write(p []byte) (int, error) {
	if w.seen {
		return w.rest.Write(p)
	}
	for i, b := range p {
		if b == '\n' {
			w.seen = true
			if string(w.line) == "ready" {
				close(w.ready)
			} else {
				_, _ = w.rest.Write(append(w.line, '\n'))
			}
			_, _ = w.rest.Write(p[i+1:])
			return len(p), nil
		}
		if len(w.line) < 64 {
			w.line = append(w.line, b)
		}
	}
	return len(p), nil
}

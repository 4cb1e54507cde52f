// Package browser drives a headless Chromium for the parts of splatbench
// that are judged in a browser: the Three.js competition renders, the
// service's web page and the splat viewer. It starts the machine's own
// Chromium (Debian's package, installed by the set-up) through the DevTools
// protocol with github.com/chromedp/chromedp, with WebGL on SwiftShader so
// that pages render the same on machines without a GPU.
package browser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvExec names the Chromium executable, overriding the search in Find.
const EnvExec = "SPLATBENCH_CHROMIUM"

// ErrNotFound is returned by Find when no Chromium is installed.
var ErrNotFound = errors.New("no Chromium found (install Debian's chromium package, `make setup` does, or set " + EnvExec + ")")

// Find returns the Chromium executable: $SPLATBENCH_CHROMIUM, else the
// first of chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv(EnvExec); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvExec, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options configure Start. The zero value is usable.
type Options struct {
	Exec string       // Chromium executable; "" means Find
	Log  *slog.Logger // nil discards
}

// Browser is one running Chromium with a fresh profile directory.
type Browser struct {
	log         *slog.Logger
	dir         string
	cancelAlloc context.CancelFunc
	browserCtx  context.Context
	cancel      context.CancelFunc
	closeOnce   sync.Once
}

// Start launches Chromium headless. Close it when done: it ends the process
// and removes its profile directory.
func Start(ctx context.Context, opt Options) (*Browser, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	execPath := opt.Exec
	if execPath == "" {
		p, err := Find()
		if err != nil {
			return nil, err
		}
		execPath = p
	}
	dir, err := os.MkdirTemp("", "splatbench-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile directory: %w", err)
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox, // the set-up and CI run as root
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// WebGL on the CPU: the same pixels with or without a GPU.
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("ignore-gpu-blocklist", true),
	)
	// The browser outlives ctx's cancellation only through Close; ctx
	// bounds the start.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(ctx), flags...)
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{log: log, dir: dir, cancelAlloc: cancelAlloc, browserCtx: browserCtx, cancel: cancel}
	if err := initTarget(ctx, browserCtx, 30*time.Second); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium %s: %w", execPath, err)
	}
	log.Debug("chromium started", "exec", execPath, "profile", dir)
	return b, nil
}

// initTarget makes chromedp create the browser or tab of target. chromedp
// ties a target's life to the context of its first run, so that run gets
// target itself; ctx and the timeout end it by closing target.
func initTarget(ctx, target context.Context, timeout time.Duration) error {
	tctx, stop := context.WithTimeout(ctx, timeout)
	defer stop()
	cancel := context.AfterFunc(tctx, func() { chromedp.Cancel(target) })
	defer cancel()
	err := chromedp.Do(target)
	if err != nil && tctx.Err() != nil {
		return fmt.Errorf("%w (%v)", context.Cause(tctx), err)
	}
	return err
}

// runBounded runs actions in the chromedp context target, giving up when
// ctx ends (its deadline or cancellation) without closing target.
func runBounded(ctx, target context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	_, err := runValue(ctx, target, chromedp.Steps(actions...))
	return err
}

// runValue is runBounded for one action with a value.
func runValue[T any](ctx, target context.Context, a chromedp.Action[T]) (T, error) {
	rctx, cancel := context.WithCancel(target)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	v, err := chromedp.Run(rctx, a)
	if err != nil && ctx.Err() != nil {
		return v, fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return v, err
}

// Close ends Chromium and removes its profile directory.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		b.cancelAlloc()
		if err := os.RemoveAll(b.dir); err != nil {
			b.log.Warn("remove chromium profile", "dir", b.dir, "err", err)
		}
	})
	return nil
}

// Page is one browser tab.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	console []string
}

// maxConsole bounds the console lines a page keeps.
const maxConsole = 200

// Open opens url in a new tab with a w×h viewport and waits for the load
// event. Close the page when done.
func (b *Browser) Open(ctx context.Context, url string, w, h int) (*Page, error) {
	tabCtx, cancel := chromedp.NewContext(b.browserCtx)
	p := &Page{ctx: tabCtx, cancel: cancel}
	err := initTarget(ctx, tabCtx, 30*time.Second)
	if err == nil {
		err = runBounded(ctx, tabCtx, chromedp.EmulateViewport(int64(w), int64(h)))
	}
	if err == nil {
		err = chromedp.Listen(tabCtx, p.listen)
	}
	if err == nil {
		err = runBounded(ctx, tabCtx, chromedp.Navigate(url))
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	return p, nil
}

func (p *Page) listen(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			line += " " + ev.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	p.mu.Lock()
	if len(p.console) < maxConsole {
		p.console = append(p.console, line)
	}
	p.mu.Unlock()
}

// Console returns the page's console messages and uncaught exceptions so
// far (at most 200), for error messages and tests.
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Do runs chromedp actions in the tab (clicks, key presses, uploads),
// bounded by ctx.
func (p *Page) Do(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	return runBounded(ctx, p.ctx, actions...)
}

// Eval evaluates a JavaScript expression in p and decodes its JSON value
// into a T (use chromedp.Void to ignore it). A promise is awaited.
func Eval[T any](ctx context.Context, p *Page, expr string) (T, error) {
	v, err := runValue(ctx, p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("evaluate %q: %w%s", clip(expr), err, p.consoleTail())
	}
	return v, nil
}

// WaitFor polls the JavaScript expression until it is truthy or ctx ends;
// the error then quotes the page's last console lines.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	_, err := runValue(ctx, p.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		return fmt.Errorf("wait for %q: %w%s", clip(expr), err, p.consoleTail())
	}
	return nil
}

// Screenshot captures the viewport as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	buf, err := runValue(ctx, p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return buf, nil
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

func (p *Page) consoleTail() string {
	c := p.Console()
	if len(c) == 0 {
		return ""
	}
	if len(c) > 5 {
		c = c[len(c)-5:]
	}
	return "; console: " + strings.Join(c, " | ")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

package bittensor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type testAxon struct {
	srv       *httptest.Server
	axon      *Axon
	info      AxonInfo
	validator *Keypair
}

// newTestAxon serves PullTask (echo a fixed task) and SubmitResults
// (verify the submission signature, blank results) with Alice as the
// validator; Bob is blacklisted on SubmitResults.
func newTestAxon(t *testing.T, opts AxonOptions) *testAxon {
	t.Helper()
	v, _ := KeypairFromURI("//Alice")
	opts.Key = v
	a, err := NewAxon(opts)
	if err != nil {
		t.Fatal(err)
	}
	task := Task{Type: TaskText, ID: "t-1", Prompt: "a red cube"}
	a.Attach(NamePullTask, func(_ context.Context, r *Request) (Synapse, error) {
		p := r.Body.(*PullTask)
		p.Task, p.ThrottlePeriod = &task, 30
		return p, nil
	}, nil)
	bob, _ := KeypairFromURI("//Bob")
	a.Attach(NameSubmitResults, func(_ context.Context, r *Request) (Synapse, error) {
		s := r.Body.(*SubmitResults)
		if err := VerifySubmissionSignature(s.Signature, s.SubmitTime, task.Prompt, deref(s.Axon.Hotkey), deref(s.Dendrite.Hotkey)); err != nil {
			if errors.Is(err, ErrMalformedSignature) {
				return nil, err
			}
			s.Feedback = &Feedback{}
		} else {
			s.Feedback = &Feedback{TaskFidelityScore: 1}
		}
		s.Results, s.Signature, s.CooldownUntil = "", "", 42
		return s, nil
	}, func(r *Request) (bool, string) {
		return r.Hotkey == bob.SS58(), "Bob is not registered"
	})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	p, _ := strconv.Atoi(port)
	return &testAxon{srv: srv, axon: a, validator: v, info: AxonInfo{UID: 7, Hotkey: v.SS58(), IP: host, Port: p}}
}

func newTestDendrite(t *testing.T, uri string) *Dendrite {
	t.Helper()
	k, err := KeypairFromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDendrite(DendriteOptions{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{})
	d := newTestDendrite(t, "//Charlie")
	ctx := context.Background()
	pt, err := d.PullTask(ctx, ta.info, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pt.Task == nil || pt.Task.ID != "t-1" || pt.ThrottlePeriod != 30 || pt.ValidationThreshold != 0.6 {
		t.Fatalf("PullTask answer %+v", pt)
	}
	if pt.Axon.StatusCode == nil || *pt.Axon.StatusCode != 200 || deref(pt.Axon.StatusMessage) != "Success" {
		t.Errorf("axon terminal %+v", pt.Axon)
	}
	sub, err := NewSubmission(d.opts.Key, ta.info.Hotkey, *pt.Task, "c3B6", time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.SubmitResults(ctx, ta.info, sub, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Feedback == nil || got.Feedback.TaskFidelityScore != 1 || got.CooldownUntil != 42 || got.Results != "" {
		t.Errorf("SubmitResults answer %+v feedback %+v", got, got.Feedback)
	}
	// A submission signed over another prompt is well-formed but wrong.
	bad, _ := NewSubmission(d.opts.Key, ta.info.Hotkey, Task{ID: "t-1", Prompt: "other"}, "c3B6", 1)
	got, err = d.SubmitResults(ctx, ta.info, bad, 5*time.Second)
	if err != nil || got.Feedback == nil || got.Feedback.TaskFidelityScore != 0 {
		t.Errorf("wrong-prompt submission: %+v, %v", got, err)
	}
}

func TestCallErrors(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{})
	ctx := context.Background()
	bob := newTestDendrite(t, "//Bob")
	sub, _ := NewSubmission(bob.opts.Key, ta.info.Hotkey, Task{ID: "t-1", Prompt: "a red cube"}, "", 1)
	_, err := bob.SubmitResults(ctx, ta.info, sub, 5*time.Second)
	var ce *CallError
	if !errors.Is(err, ErrBlacklisted) || !errors.As(err, &ce) || ce.Status != 403 || !strings.Contains(err.Error(), "uid 7") || !strings.Contains(ce.Message, "Bob is not registered") {
		t.Errorf("blacklisted call: %v", err)
	}
	// Malformed submission signature: the handler raises, 500.
	d := newTestDendrite(t, "//Dave")
	sub, _ = NewSubmission(d.opts.Key, ta.info.Hotkey, Task{ID: "t-1", Prompt: "a red cube"}, "", 1)
	sub.Signature = "not base64!"
	if _, err := d.SubmitResults(ctx, ta.info, sub, 5*time.Second); !errors.Is(err, ErrServer) {
		t.Errorf("malformed signature: %v", err)
	}
	// Wrong validator hotkey: the transport signature is over another axon key.
	wrong := ta.info
	wrong.Hotkey = bob.Hotkey()
	if _, err := d.PullTask(ctx, wrong, 5*time.Second); !errors.Is(err, ErrNotVerified) {
		t.Errorf("signature for another axon: %v", err)
	}
	// Unreachable peer.
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.Listener.Addr().(*net.TCPAddr)
	closed.Close()
	if _, err := d.PullTask(ctx, AxonInfo{UID: 9, Hotkey: ta.info.Hotkey, IP: "127.0.0.1", Port: addr.Port}, time.Second); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "uid 9") {
		t.Errorf("closed port: %v", err)
	}
}

func TestCallTimeoutAndGarbage(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/PullTask" {
			<-release
			return
		}
		_, _ = w.Write([]byte("{not json"))
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	addr := slow.Listener.Addr().(*net.TCPAddr)
	info := AxonInfo{UID: 3, Hotkey: aliceSS58, IP: "127.0.0.1", Port: addr.Port}
	d := newTestDendrite(t, "//Eve")
	if _, err := d.PullTask(context.Background(), info, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("slow server: %v", err)
	}
	if _, err := d.Call(context.Background(), info, NewGetVersion(), time.Second); !errors.Is(err, ErrBadBody) || !strings.Contains(err.Error(), "uid 3") {
		t.Errorf("garbage body: %v", err)
	}
}

// rawCall sends a hand-built request so tests can break one thing at a time.
func rawCall(t *testing.T, ta *testAxon, name string, h http.Header, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/"+name, bytes.NewReader(body))
	req.Header = h
	resp, err := ta.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m struct{ Message string }
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m.Message
}

func TestAxonRejects(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{MaxBodyBytes: 4096})
	d := newTestDendrite(t, "//Ferdie")
	prep := func(s Synapse) (http.Header, []byte) {
		h, b, err := d.Prepare(ta.info, s, 12*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return h, b
	}
	sub := func() Synapse {
		s, _ := NewSubmission(d.opts.Key, ta.info.Hotkey, Task{ID: "t-1", Prompt: "a red cube"}, "", 1)
		return s
	}
	tests := []struct {
		name    string
		synapse string
		build   func() (http.Header, []byte)
		code    int
		msg     string
	}{
		{"ok", NamePullTask, func() (http.Header, []byte) { return prep(NewPullTask()) }, 200, ""},
		{"unknown route", "Nope", func() (http.Header, []byte) { return prep(NewPullTask()) }, 404, "not found"},
		{"forged signature", NamePullTask, func() (http.Header, []byte) {
			h, b := prep(NewPullTask())
			s := h["bt_header_dendrite_signature"][0]
			h["bt_header_dendrite_signature"] = []string{s[:10] + "00" + s[12:]}
			return h, b
		}, 401, "Signature mismatch"},
		{"missing signature", NamePullTask, func() (http.Header, []byte) {
			h, b := prep(NewPullTask())
			delete(h, "bt_header_dendrite_signature")
			return h, b
		}, 401, "Signature"},
		{"missing nonce", NamePullTask, func() (http.Header, []byte) {
			h, b := prep(NewPullTask())
			delete(h, "bt_header_dendrite_nonce")
			return h, b
		}, 401, "Missing Nonce"},
		{"stale nonce", NamePullTask, func() (http.Header, []byte) {
			s := NewPullTask()
			old := DendriteOptions{Key: d.opts.Key, Now: func() time.Time { return time.Now().Add(-17 * time.Second) }}
			od, _ := NewDendrite(old)
			h, b, _ := od.Prepare(ta.info, s, 12*time.Second)
			return h, b
		}, 401, "Nonce is too old"},
		{"bad nonce header", NamePullTask, func() (http.Header, []byte) {
			h, b := prep(NewPullTask())
			h["bt_header_dendrite_nonce"] = []string{"soon"}
			return h, b
		}, 500, "bt_header_dendrite_nonce"},
		{"missing input_obj", NameSubmitResults, func() (http.Header, []byte) {
			h, b := prep(sub())
			delete(h, "bt_header_input_obj_signature")
			return h, b
		}, 500, "required field"},
		{"garbage JSON", NamePullTask, func() (http.Header, []byte) {
			h, _ := prep(NewPullTask())
			return h, []byte("{{{")
		}, 500, "PullTask body"},
		{"body lacks required field", NameSubmitResults, func() (http.Header, []byte) {
			h, _ := prep(sub())
			return h, []byte(`{"results": "", "submit_time": 1}`)
		}, 500, `"signature" missing`},
		{"oversized body", NamePullTask, func() (http.Header, []byte) {
			h, _ := prep(NewPullTask())
			return h, bytes.Repeat([]byte(" "), 5000)
		}, 413, "larger than 4096 bytes"},
		{"timeout NaN", NamePullTask, timeoutHeader(prep, "nan"), 400, "timeout header NaN"},
		{"timeout Inf", NamePullTask, timeoutHeader(prep, "inf"), 400, "timeout header +Inf"},
		{"timeout 1e300", NamePullTask, timeoutHeader(prep, "1e300"), 400, "timeout header 1e+300"},
		{"timeout negative", NamePullTask, timeoutHeader(prep, "-1"), 400, "want a number of seconds in [0, 3600]"},
		{"timeout 3601", NamePullTask, timeoutHeader(prep, "3601"), 400, "timeout header 3601"},
		{"timeout 3600", NamePullTask, timeoutHeader(prep, "3600"), 200, ""},
		{"body hash mismatch", NamePullTask, func() (http.Header, []byte) {
			s := NewPullTask()
			h, b := prep(s)
			// Re-sign over a different hash so only the integrity check fails.
			other := BodyHash("x")
			msg := TransportMessage(*s.Dendrite.Nonce, d.Hotkey(), ta.info.Hotkey, *s.Dendrite.UUID, other)
			sig, _ := d.opts.Key.SignHex([]byte(msg))
			h["computed_body_hash"] = []string{other}
			h["bt_header_dendrite_signature"] = []string{sig}
			return h, b
		}, 500, "computed_body_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, b := tt.build()
			code, msg := rawCall(t, ta, tt.synapse, h, b)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("status %d %q, want %d containing %q", code, msg, tt.code, tt.msg)
			}
		})
	}
}

// timeoutHeader builds a PullTask whose timeout header is v (the header is
// not signed, so only the timeout check can fail).
func timeoutHeader(prep func(Synapse) (http.Header, []byte), v string) func() (http.Header, []byte) {
	return func() (http.Header, []byte) {
		h, b := prep(NewPullTask())
		h["timeout"] = []string{v}
		return h, b
	}
}

// TestAxonNoncePrune: the nonce map forgets endpoints whose last nonce is
// older than any window the timeout header allows, and a replay of a
// forgotten request is still refused.
func TestAxonNoncePrune(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	ta := newTestAxon(t, AxonOptions{Now: now})
	k, err := KeypairFromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDendrite(DendriteOptions{Key: k, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	call := func() (http.Header, []byte) {
		t.Helper()
		h, b, err := d.Prepare(ta.info, NewPullTask(), 12*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := rawCall(t, ta, NamePullTask, h, b); code != 200 {
			t.Fatalf("call: %d %s", code, msg)
		}
		return h, b
	}
	keys := func() int { ta.axon.mu.Lock(); defer ta.axon.mu.Unlock(); return len(ta.axon.nonces) }
	firstH, firstB := call()
	for range 49 {
		advance(time.Second)
		call()
	}
	if n := keys(); n != 50 {
		t.Fatalf("%d endpoints remembered after 50 calls with fresh uuids, want 50", n)
	}
	// Two hours on, one more call: only it is remembered.
	advance(2 * time.Hour)
	call()
	if n := keys(); n != 1 {
		t.Errorf("%d endpoints remembered two hours later, want 1", n)
	}
	firstH["bt_header_dendrite_version"] = []string{"7001000"} // no window for old dendrites
	if code, msg := rawCall(t, ta, NamePullTask, firstH, firstB); code != 401 || !strings.Contains(msg, "too old") {
		t.Errorf("replay of a forgotten request: %d %q, want 401 too old", code, msg)
	}
}

func TestAxonNonceReplay(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{})
	d := newTestDendrite(t, "//Alice")
	h, b, _ := d.Prepare(ta.info, NewPullTask(), 12*time.Second)
	if code, msg := rawCall(t, ta, NamePullTask, h, b); code != 200 {
		t.Fatalf("first call: %d %s", code, msg)
	}
	if code, msg := rawCall(t, ta, NamePullTask, h, b); code != 401 || !strings.Contains(msg, "a newer one") {
		t.Errorf("replay: %d %q, want 401", code, msg)
	}
}

func TestAxonAllowUnsignedQuirk(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{AllowUnsigned: true})
	d := newTestDendrite(t, "//Alice")
	h, b, _ := d.Prepare(ta.info, NewPullTask(), 12*time.Second)
	h["bt_header_dendrite_signature"] = []string{""}
	if code, msg := rawCall(t, ta, NamePullTask, h, b); code != 200 {
		t.Errorf("unsigned with quirk: %d %q", code, msg)
	}
}

func TestResponseHeadersLowercase(t *testing.T) {
	t.Parallel()
	ta := newTestAxon(t, AxonOptions{})
	d := newTestDendrite(t, "//Alice")
	h, b, _ := d.Prepare(ta.info, NewPullTask(), 12*time.Second)
	req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/PullTask", bytes.NewReader(b))
	req.Header = h
	req.Close = true
	// Read the raw response to see header case as sent.
	conn, err := net.Dial("tcp", ta.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(io.LimitReader(conn, 1<<16))
	head := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	for _, want := range []string{"\r\nbt_header_axon_status_code: 200", "\r\nbt_header_dendrite_hotkey: " + aliceSS58, "\r\ncomputed_body_hash: " + EmptyBodyHash} {
		if !strings.Contains(head, want) {
			t.Errorf("response head lacks %q:\n%s", want, head)
		}
	}
}

package validator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// countingBody is an endless request body that counts what was read.
type countingBody struct{ n atomic.Int64 }

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	b.n.Add(int64(len(p)))
	return len(p), nil
}

// TestFaultsReadNoBodyBeforeAuth: with a latency or hang fault the
// wrapper used to read the whole body (up to the axon's limit) before the
// axon authenticated the caller; now an unauthenticated 100 MiB body is
// refused having read at most what the HTTP server drains.
func TestFaultsReadNoBodyBeforeAuth(t *testing.T) {
	t.Parallel()
	for _, f := range []Faults{{Latency: 10 * time.Millisecond}, {HangRate: 1}} {
		_, info := serve(t, Options{Faults: f})
		d, _ := dendrite(t, "//Miner")
		h, _, err := d.Prepare(info, bittensor.NewPullTask(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		h["bt_header_dendrite_signature"] = []string{"0x00"} // forged
		body := &countingBody{}
		const size = 100 << 20
		req, _ := http.NewRequest(http.MethodPost, "http://"+info.Addr()+"/"+bittensor.NamePullTask, io.LimitReader(body, size))
		req.Header, req.ContentLength = h, size
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if n := body.n.Load(); n > 16<<20 {
			t.Errorf("faults %+v: %d MiB of an unauthenticated body read, want none before the axon", f, n>>20)
		}
	}
}

// TestServeCutsSlowBody: a caller that trickles its body is cut off after
// RequestTimeout instead of holding a connection (and its buffer) forever.
func TestServeCutsSlowBody(t *testing.T) {
	t.Parallel()
	key, _ := bittensor.KeypairFromURI("//Validator0")
	v, err := New(Options{Key: key, RequestTimeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	info := v.Info()
	d, _ := dendrite(t, "//Miner")
	h, body, err := d.Prepare(info, bittensor.NewPullTask(), 12*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", bittensor.NamePullTask, info.Addr(), len(body))
	for k, vs := range h {
		fmt.Fprintf(&req, "%s: %s\r\n", k, vs[0])
	}
	req.WriteString("\r\n")
	req.Write(body[:len(body)/2]) // and the rest never comes
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(5 * time.Second))
	got, err := io.ReadAll(conn)
	if took := time.Since(start); err != nil || took > 3*time.Second {
		t.Fatalf("slow body held the connection %v (err %v), want it cut after ~300ms", took.Round(time.Millisecond), err)
	}
	if len(got) > 0 && !strings.Contains(string(got), " 500 ") {
		t.Errorf("answer %q", got)
	}
}

// TestDateFollowsClockSkew: the local validator's --clock-skew shifts the
// Date header too, as a server on a skewed machine stamps it; before, the
// Date told the miner the clocks agreed while cooldowns said otherwise.
func TestDateFollowsClockSkew(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{-30 * time.Second, 0, 45 * time.Second} {
		_, info := serve(t, Options{Faults: Faults{ClockSkew: skew}})
		resp, err := http.Post("http://"+info.Addr()+"/"+bittensor.NamePullTask, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("skew %v: Date %q: %v", skew, resp.Header.Get("Date"), err)
		}
		if off := date.Sub(time.Now()); off < skew-2*time.Second || off > skew+time.Second {
			t.Errorf("skew %v: Date is %v off the clock", skew, off.Round(time.Second))
		}
	}
}

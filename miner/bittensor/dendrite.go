package bittensor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxResponseBytes bounds a response body a Dendrite reads.
const DefaultMaxResponseBytes = 64 << 20

// DendriteOptions configure a Dendrite. Only Key is required.
type DendriteOptions struct {
	Key              *Keypair
	Client           *http.Client // default: a client with no overall timeout (each call has its own)
	ExternalIP       string       // sent as bt_header_dendrite_ip; calls to this IP go to 0.0.0.0 like bittensor does
	Now              func() time.Time
	Log              *slog.Logger
	MaxResponseBytes int64
}

// Dendrite calls validator axons (docs/protocol.md §2). It is safe for concurrent
// use. Each call gets a fresh uuid (as the base miner, which builds a
// dendrite per request), so concurrent calls cannot trip the per-uuid
// strictly-increasing nonce rule; nonces are still strictly increasing
// across the Dendrite.
type Dendrite struct {
	opts DendriteOptions
	log  *slog.Logger

	mu        sync.Mutex
	lastNonce int64
}

// NewDendrite returns a Dendrite signing with opts.Key.
func NewDendrite(opts DendriteOptions) (*Dendrite, error) {
	if opts.Key == nil || opts.Key.secret == nil {
		return nil, errors.New("dendrite: a key pair with a secret key is required")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dendrite{opts: opts, log: log}, nil
}

// Hotkey is the caller's SS58 address.
func (d *Dendrite) Hotkey() string { return d.opts.Key.SS58() }

func (d *Dendrite) nonce() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.opts.Now().UnixNano()
	if n <= d.lastNonce {
		n = d.lastNonce + 1
	}
	d.lastNonce = n
	return n
}

// newUUID1 returns a version-1 style UUID string (time + random node), the
// shape of Python's str(uuid.uuid1()).
func newUUID1(now time.Time) string {
	var b [16]byte
	// 100 ns intervals since 1582-10-15.
	ts := uint64(now.UnixNano()/100) + 0x01B21DD213814000
	binary.BigEndian.PutUint32(b[0:4], uint32(ts))
	binary.BigEndian.PutUint16(b[4:6], uint16(ts>>32))
	binary.BigEndian.PutUint16(b[6:8], uint16(ts>>48)&0x0fff|0x1000)
	_, _ = rand.Read(b[8:])
	b[8] = b[8]&0x3f | 0x80
	b[10] |= 0x01 // random node: multicast bit set
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TransportMessage is the message a dendrite signs and an axon verifies
// (docs/protocol.md §2.4): "{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}".
func TransportMessage(nonce int64, dendriteHotkey, axonHotkey, uuid, bodyHash string) string {
	return strconv.FormatInt(nonce, 10) + "." + dendriteHotkey + "." + axonHotkey + "." + uuid + "." + bodyHash
}

// Prepare fills a synapse's transport fields for a call to axon as the
// bittensor dendrite does (timeout, dendrite and axon terminal info, body
// hash, signature) and returns the headers and JSON body to send.
func (d *Dendrite) Prepare(axon AxonInfo, syn Synapse, timeout time.Duration) (http.Header, []byte, error) {
	b := syn.Base()
	b.Name = syn.SynapseName()
	b.Timeout = timeout.Seconds()
	nonce := d.nonce()
	uuid := newUUID1(d.opts.Now())
	hotkey := d.Hotkey()
	version := int64(SDKVersion)
	b.Dendrite = TerminalInfo{Version: &version, Nonce: &nonce, UUID: &uuid, Hotkey: &hotkey}
	if d.opts.ExternalIP != "" {
		ip := d.opts.ExternalIP
		b.Dendrite.IP = &ip
	}
	ip, port, vk := axon.IP, axon.Port, axon.Hotkey
	b.Axon = TerminalInfo{IP: &ip, Port: &port, Hotkey: &vk}
	sig, err := d.opts.Key.SignHex([]byte(TransportMessage(nonce, hotkey, axon.Hotkey, uuid, EmptyBodyHash)))
	if err != nil {
		return nil, nil, err
	}
	b.Dendrite.Signature = &sig
	b.ComputedBodyHash = "" // the field default; the real hash travels in the header (docs/protocol.md §2.3)
	body, err := json.Marshal(syn)
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s: %w", syn.SynapseName(), err)
	}
	b.TotalSize = int64(len(body))
	h := Headers(syn)
	setHeader(h, "content-type", "application/json")
	return h, body, nil
}

// Call sends syn to a validator's axon and returns the response synapse (a
// new value of syn's type). syn's transport fields are overwritten. Every
// error is a *CallError naming the peer.
func (d *Dendrite) Call(ctx context.Context, axon AxonInfo, syn Synapse, timeout time.Duration) (Synapse, error) {
	name := syn.SynapseName()
	fail := func(kind error, status int, msg string, err error) (Synapse, error) {
		return nil, &CallError{Peer: axon, Synapse: name, Kind: kind, Status: status, Message: msg, Err: err}
	}
	h, body, err := d.Prepare(axon, syn, timeout)
	if err != nil {
		return fail(ErrStatus, 0, "", err)
	}
	host := axon.IP
	if d.opts.ExternalIP != "" && host == d.opts.ExternalIP {
		host = "0.0.0.0"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(axon.Port)) + "/" + name
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fail(ErrUnreachable, 0, "", err)
	}
	req.Header = h
	start := d.opts.Now()
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fail(ErrTimeout, 0, "caller cancelled", ctx.Err())
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return fail(ErrTimeout, 0, fmt.Sprintf("no response within %v", timeout), err)
		}
		return fail(ErrUnreachable, 0, "", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, d.opts.MaxResponseBytes+1))
	if err != nil {
		if cctx.Err() != nil {
			return fail(ErrTimeout, resp.StatusCode, "reading the response", err)
		}
		return fail(ErrBadBody, resp.StatusCode, "reading the response", err)
	}
	if int64(len(data)) > d.opts.MaxResponseBytes {
		return fail(ErrBadBody, resp.StatusCode, fmt.Sprintf("response larger than %d bytes", d.opts.MaxResponseBytes), nil)
	}
	d.log.Debug("dendrite call", "synapse", name, "peer", axon.String(), "status", resp.StatusCode,
		"bytes_out", len(body), "bytes_in", len(data), "elapsed", d.opts.Now().Sub(start))
	if resp.StatusCode != http.StatusOK {
		return fail(kindForStatus(resp.StatusCode), resp.StatusCode, errorMessage(data), nil)
	}
	out, err := ParseBody(name, data)
	if err != nil {
		return fail(ErrBadBody, resp.StatusCode, "", err)
	}
	return out, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errorMessage extracts {"message": …} from an error body, or a prefix of
// the raw body.
func errorMessage(data []byte) string {
	var m struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(data, &m) == nil && m.Message != nil {
		return fmt.Sprint(m.Message)
	}
	const max = 200
	if len(data) > max {
		data = data[:max]
	}
	return strconv.Quote(string(data))
}

// PullTask calls PullTask on a validator with the base miner's timeout
// semantics left to the caller.
func (d *Dendrite) PullTask(ctx context.Context, axon AxonInfo, timeout time.Duration) (*PullTask, error) {
	out, err := d.Call(ctx, axon, NewPullTask(), timeout)
	if err != nil {
		return nil, err
	}
	return out.(*PullTask), nil
}

// SubmitResults calls SubmitResults with a prepared request (see
// NewSubmission) and returns the validator's answer.
func (d *Dendrite) SubmitResults(ctx context.Context, axon AxonInfo, req *SubmitResults, timeout time.Duration) (*SubmitResults, error) {
	out, err := d.Call(ctx, axon, req, timeout)
	if err != nil {
		return nil, err
	}
	return out.(*SubmitResults), nil
}

// NewSubmission builds a signed SubmitResults for task with the given
// base64 SPZ result ("" to skip the task without penalty), signed at
// submitTime (time.Time.UnixNano, like time.time_ns()).
func NewSubmission(miner *Keypair, validatorHotkey string, task Task, resultsB64 string, submitTime int64) (*SubmitResults, error) {
	sig, err := SubmissionSignature(miner, submitTime, task.Prompt, validatorHotkey)
	if err != nil {
		return nil, err
	}
	s := NewSubmitResults()
	t := task
	s.Task, s.TaskID, s.Results, s.SubmitTime, s.Signature = &t, task.ID, resultsB64, submitTime, sig
	return s, nil
}

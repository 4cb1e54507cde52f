package bittensor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEmptyBodyHash(t *testing.T) {
	t.Parallel()
	// SHA3-256("") (FIPS 202 test vector, quoted in docs/protocol.md §2.2).
	if EmptyBodyHash != "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a" {
		t.Errorf("EmptyBodyHash = %s", EmptyBodyHash)
	}
}

func TestPyFloat(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{12: "12.0", 300: "300.0", 0.5: "0.5", 12.25: "12.25"} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestSubmissionMessage(t *testing.T) {
	t.Parallel()
	got := SubmissionMessage(1700000000123456789, "a red cube", aliceSS58, bobSS58)
	want := MinerLicenseConsentDeclaration + "1700000000123456789a red cube" + aliceSS58 + bobSS58
	if got != want {
		t.Errorf("message = %q", got)
	}
	if !strings.HasPrefix(got, "I, as a miner on SN17, have obtained all licenses") || !strings.Contains(got, "its end users1700000000123456789") {
		t.Errorf("declaration not verbatim: %q", got)
	}
	bob, _ := KeypairFromURI("//Bob")
	sig, err := SubmissionSignature(bob, 1700000000123456789, "a red cube", aliceSS58)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.Strict().DecodeString(sig); err != nil || len(raw) != 64 {
		t.Fatalf("signature %q is not base64 of 64 bytes", sig)
	}
	tests := []struct {
		name      string
		sig       string
		time      int64
		prompt    string
		validator string
		miner     string
		want      error
	}{
		{"good", sig, 1700000000123456789, "a red cube", aliceSS58, bobSS58, nil},
		{"other time", sig, 1, "a red cube", aliceSS58, bobSS58, ErrBadSignature},
		{"other prompt", sig, 1700000000123456789, "a blue cube", aliceSS58, bobSS58, ErrBadSignature},
		{"swapped hotkeys", sig, 1700000000123456789, "a red cube", bobSS58, aliceSS58, ErrBadSignature},
		{"hex not base64", "0x" + strings.Repeat("00", 64), 1, "", aliceSS58, bobSS58, ErrMalformedSignature},
		{"unpadded", strings.TrimRight(sig, "="), 1700000000123456789, "a red cube", aliceSS58, bobSS58, ErrMalformedSignature},
		{"short", base64.StdEncoding.EncodeToString(make([]byte, 63)), 1, "", aliceSS58, bobSS58, ErrMalformedSignature},
		{"empty", "", 1, "", aliceSS58, bobSS58, ErrMalformedSignature},
	}
	for _, tt := range tests {
		err := VerifySubmissionSignature(tt.sig, tt.time, tt.prompt, tt.validator, tt.miner)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestHeadersParseRoundTrip(t *testing.T) {
	t.Parallel()
	d := newTestDendrite(t, "//Alice")
	info := AxonInfo{UID: 1, Hotkey: bobSS58, IP: "10.0.0.2", Port: 8092}
	sub, _ := NewSubmission(d.opts.Key, bobSS58, Task{ID: "x", Prompt: "p"}, "", 5)
	h, body, err := d.Prepare(info, sub, 300*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"name": "SubmitResults", "timeout": "300.0", "bt_header_axon_ip": "10.0.0.2", "bt_header_axon_port": "8092",
		"bt_header_axon_hotkey": bobSS58, "bt_header_dendrite_version": "9009000", "bt_header_dendrite_hotkey": aliceSS58,
		"bt_header_input_obj_results": "IiI=", "bt_header_input_obj_submit_time": "MA==", "bt_header_input_obj_signature": "IiI=",
		"computed_body_hash": EmptyBodyHash,
	} {
		if got := h[k]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %v, want %q", k, got, want)
		}
	}
	// Canonicalised keys (as a Go server sees them) parse the same.
	canon := http.Header{}
	for k, v := range h {
		canon.Set(k, v[0])
	}
	hs, err := ParseHeaders(NameSubmitResults, canon)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := ParseBody(NameSubmitResults, body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bs.Base().Dendrite, hs.Base().Dendrite); diff != "" {
		t.Errorf("header and body dendrite differ (-body +header):\n%s", diff)
	}
	sub.TotalSize = 0 // set after the body was encoded
	sub.Task.Type = TaskText
	if diff := cmp.Diff(sub, bs); diff != "" {
		t.Errorf("body round trip (-sent +parsed):\n%s", diff)
	}
}

func TestTaskJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Task
		wantErr bool
	}{
		{`{"type":"image","id":"i","prompt":"iVBO"}`, Task{TaskImage, "i", "iVBO"}, false},
		{`{"id":"t","prompt":"cat"}`, Task{TaskText, "t", "cat"}, false},
		{`{"type":"video","id":"v","prompt":""}`, Task{}, true},
	}
	for _, tt := range tests {
		p, err := ParseBody(NamePullTask, []byte(`{"task":`+tt.in+`}`))
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.in)
			}
			continue
		}
		if err != nil || *p.(*PullTask).Task != tt.want {
			t.Errorf("%s: %+v, %v", tt.in, p, err)
		}
	}
}

// FuzzParseRequest feeds arbitrary header values and bodies to the axon's
// parsers: they must return an error or a synapse, never panic, and a
// parsed body must re-encode.
func FuzzParseRequest(f *testing.F) {
	d, _ := KeypairFromURI("//Alice")
	dd, _ := NewDendrite(DendriteOptions{Key: d})
	sub, _ := NewSubmission(d, bobSS58, Task{ID: "x", Prompt: "p"}, "", 5)
	h, body, _ := dd.Prepare(AxonInfo{Hotkey: bobSS58, IP: "1.2.3.4", Port: 1}, sub, time.Second)
	f.Add(NameSubmitResults, h["bt_header_dendrite_nonce"][0], h["bt_header_input_obj_signature"][0], "300.0", string(body))
	f.Add(NamePullTask, "", "", "12.0", `{"task": {"type": "text", "id": "1", "prompt": "x"}}`)
	f.Add(NamePullTask, "-1", "!!", "nan", `{"dendrite": null, "axon": {"port": "x"}}`)
	f.Add(NameGetVersion, "99999999999999999999", "IiI=", "", `[]`)
	f.Add(NameSubmitResults, "1", "IiI=", "1", `{"results": null, "submit_time": 1, "signature": ""}`)
	f.Fuzz(func(t *testing.T, name, nonce, input, timeout, body string) {
		hdr := http.Header{}
		hdr.Set("bt_header_dendrite_nonce", nonce)
		hdr.Set("bt_header_input_obj_results", input)
		hdr.Set("bt_header_input_obj_submit_time", input)
		hdr.Set("bt_header_input_obj_signature", input)
		hdr.Set("timeout", timeout)
		if s, err := ParseHeaders(name, hdr); err == nil && s.SynapseName() != name {
			t.Fatalf("ParseHeaders(%q) returned a %s", name, s.SynapseName())
		}
		s, err := ParseBody(name, []byte(body))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if _, err := ParseBody(name, mustJSON(t, s)); err != nil {
			t.Fatalf("re-parse of %q: %v", body, err)
		}
	})
}

func mustJSON(t *testing.T, s Synapse) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

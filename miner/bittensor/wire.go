package bittensor

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Header names and prefixes (docs/protocol.md §2.2). They go on the wire lowercase.
const (
	hdrAxonPrefix     = "bt_header_axon_"
	hdrDendritePrefix = "bt_header_dendrite_"
	hdrInputPrefix    = "bt_header_input_obj_"
	hdrName           = "name"
	hdrTimeout        = "timeout"
	hdrBodyHash       = "computed_body_hash"
	hdrHeaderSize     = "header_size"
	hdrTotalSize      = "total_size"
)

// ErrBadRequest is wrapped by every header or body parsing error.
var ErrBadRequest = errors.New("bad synapse request")

// EmptyBodyHash is SHA3-256("") in hex: the body hash of every 404-GEN
// synapse, none of which declares required_hash_fields.
var EmptyBodyHash = BodyHash()

// BodyHash is bittensor's body hash: SHA3-256 (hex) of the concatenated
// SHA3-256 hex digests of the hashed fields' string forms. With no fields it
// is SHA3-256("").
func BodyHash(fields ...string) string {
	var cat strings.Builder
	for _, f := range fields {
		s := sha3.Sum256([]byte(f))
		cat.WriteString(hex.EncodeToString(s[:]))
	}
	s := sha3.Sum256([]byte(cat.String()))
	return hex.EncodeToString(s[:])
}

// pyFloat formats a float as Python's str(float) does for the values a
// timeout takes ("12.0", "0.5").
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

// setHeader sets a header under its exact (lowercase) name; http.Header.Set
// would canonicalise it to "Bt_header_…", which Python dendrites do not find.
func setHeader(h http.Header, k, v string) { h[k] = []string{v} }

// Headers returns a synapse's transport headers (bittensor's to_headers):
// name, timeout, every non-null axon and dendrite field, a dummy
// bt_header_input_obj_* per required field, sizes and the body hash.
func Headers(s Synapse) http.Header {
	b := s.Base()
	h := http.Header{}
	setHeader(h, hdrName, s.SynapseName())
	setHeader(h, hdrTimeout, pyFloat(b.Timeout))
	terminalHeaders(h, hdrAxonPrefix, &b.Axon)
	terminalHeaders(h, hdrDendritePrefix, &b.Dendrite)
	for _, f := range s.RequiredFields() {
		setHeader(h, hdrInputPrefix+f, base64.StdEncoding.EncodeToString([]byte(dummyJSON(s, f))))
	}
	setHeader(h, hdrBodyHash, EmptyBodyHash)
	setHeader(h, hdrTotalSize, strconv.FormatInt(b.TotalSize, 10))
	size := 0
	for k, v := range h {
		size += len(k) + len(v[0])
	}
	setHeader(h, hdrHeaderSize, strconv.Itoa(size))
	return h
}

// dummyJSON is json.dumps(type()) of a required field: "" for strings, 0
// for ints.
func dummyJSON(s Synapse, field string) string {
	if _, ok := s.(*SubmitResults); ok && field == "submit_time" {
		return "0"
	}
	return `""`
}

func terminalHeaders(h http.Header, prefix string, t *TerminalInfo) {
	put := func(k, v string) { setHeader(h, prefix+k, v) }
	if t.StatusCode != nil {
		put("status_code", strconv.Itoa(*t.StatusCode))
	}
	if t.StatusMessage != nil {
		put("status_message", *t.StatusMessage)
	}
	if t.ProcessTime != nil {
		put("process_time", pyFloat(*t.ProcessTime))
	}
	if t.IP != nil {
		put("ip", *t.IP)
	}
	if t.Port != nil {
		put("port", strconv.Itoa(*t.Port))
	}
	if t.Version != nil {
		put("version", strconv.FormatInt(*t.Version, 10))
	}
	if t.Nonce != nil {
		put("nonce", strconv.FormatInt(*t.Nonce, 10))
	}
	if t.UUID != nil {
		put("uuid", *t.UUID)
	}
	if t.Hotkey != nil {
		put("hotkey", *t.Hotkey)
	}
	if t.Signature != nil {
		put("signature", *t.Signature)
	}
}

// ParseHeaders builds a synapse of the named class from request headers,
// as the axon does before blacklisting and verification. A required field
// without a decodable bt_header_input_obj_* header, or a malformed number,
// is an error (the axon answers 500).
func ParseHeaders(name string, h http.Header) (Synapse, error) {
	s, ok := NewSynapse(name)
	if !ok {
		return nil, fmt.Errorf("%w: unknown synapse %q", ErrBadRequest, name)
	}
	b := s.Base()
	inputs := map[string]bool{}
	for key, vals := range h {
		k := strings.ToLower(key)
		v := vals[0]
		var err error
		switch {
		case strings.HasPrefix(k, hdrAxonPrefix):
			err = setTerminal(&b.Axon, k[len(hdrAxonPrefix):], v)
		case strings.HasPrefix(k, hdrDendritePrefix):
			err = setTerminal(&b.Dendrite, k[len(hdrDendritePrefix):], v)
		case strings.HasPrefix(k, hdrInputPrefix):
			raw, derr := base64.StdEncoding.DecodeString(v)
			if derr == nil && json.Valid(raw) {
				inputs[k[len(hdrInputPrefix):]] = true
			}
		case k == hdrTimeout:
			b.Timeout, err = strconv.ParseFloat(v, 64)
		case k == hdrBodyHash:
			b.ComputedBodyHash = v
		case k == hdrTotalSize:
			b.TotalSize, err = strconv.ParseInt(v, 10, 64)
		case k == hdrHeaderSize:
			b.HeaderSize, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: header %s=%q: %w", ErrBadRequest, k, v, err)
		}
	}
	for _, f := range s.RequiredFields() {
		if !inputs[f] {
			return nil, fmt.Errorf("%w: header %s%s missing or not base64 JSON (required field %q)", ErrBadRequest, hdrInputPrefix, f, f)
		}
	}
	return s, nil
}

func setTerminal(t *TerminalInfo, field, v string) error {
	atoi := func() (int64, error) { return strconv.ParseInt(v, 10, 64) }
	switch field {
	case "status_code", "port":
		n, err := atoi()
		if err != nil || n < -1<<31 || n >= 1<<31 {
			return fmt.Errorf("not a 32-bit integer")
		}
		i := int(n)
		if field == "port" {
			t.Port = &i
		} else {
			t.StatusCode = &i
		}
	case "version", "nonce":
		n, err := atoi()
		if err != nil {
			return err
		}
		if field == "version" {
			t.Version = &n
		} else {
			t.Nonce = &n
		}
	case "process_time":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		t.ProcessTime = &f
	case "status_message":
		t.StatusMessage = &v
	case "ip":
		t.IP = &v
	case "uuid":
		t.UUID = &v
	case "hotkey":
		t.Hotkey = &v
	case "signature":
		t.Signature = &v
	}
	return nil
}

// ParseBody decodes a JSON body into a synapse of the named class. Every
// required field must be present and non-null; absent optional fields keep
// their defaults.
func ParseBody(name string, body []byte) (Synapse, error) {
	s, ok := NewSynapse(name)
	if !ok {
		return nil, fmt.Errorf("%w: unknown synapse %q", ErrBadRequest, name)
	}
	if err := decodeInto(s, body); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeInto(s Synapse, body []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("%w: %s body: %w", ErrBadRequest, s.SynapseName(), err)
	}
	for _, f := range s.RequiredFields() {
		if v, ok := fields[f]; !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return fmt.Errorf("%w: %s body: required field %q missing", ErrBadRequest, s.SynapseName(), f)
		}
	}
	if err := json.Unmarshal(body, s); err != nil {
		return fmt.Errorf("%w: %s body: %w", ErrBadRequest, s.SynapseName(), err)
	}
	return nil
}

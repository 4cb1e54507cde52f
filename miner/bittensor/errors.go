package bittensor

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Kinds of call failure. A *CallError wraps exactly one of them, so callers
// test with errors.Is(err, ErrBlacklisted) and so on.
var (
	ErrBlacklisted = errors.New("blacklisted (403)")
	ErrNotVerified = errors.New("not verified (401)")
	ErrNotFound    = errors.New("no such synapse (404)")
	ErrTimeout     = errors.New("timed out")
	ErrServer      = errors.New("server error (5xx)")
	ErrStatus      = errors.New("unexpected HTTP status")
	ErrBadBody     = errors.New("bad response body")
	ErrUnreachable = errors.New("unreachable")
)

// AxonInfo is what a caller needs to know of a validator's axon (from the
// metagraph): its UID, hotkey, address and stake.
type AxonInfo struct {
	UID    int
	Hotkey string
	IP     string
	Port   int
	Stake  float64
}

// Addr is host:port.
func (a AxonInfo) Addr() string { return net.JoinHostPort(a.IP, strconv.Itoa(a.Port)) }

// String names the peer in errors and logs.
func (a AxonInfo) String() string {
	return fmt.Sprintf("uid %d (%s) at %s", a.UID, a.Hotkey, a.Addr())
}

// CallError is a failed dendrite call. It names the peer and the synapse,
// carries the HTTP status when there was one and the server's message.
type CallError struct {
	Peer    AxonInfo
	Synapse string
	Kind    error // one of the Err* kinds above
	Status  int   // HTTP status; 0 when no response arrived
	Message string
	Err     error // underlying cause, may be nil
}

func (e *CallError) Error() string {
	s := fmt.Sprintf("%s to %s: %v", e.Synapse, e.Peer, e.Kind)
	if e.Status != 0 && e.Kind == ErrStatus {
		s += fmt.Sprintf(" %d", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the kind and the cause to errors.Is / errors.As.
func (e *CallError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// kindForStatus maps an HTTP status to an error kind.
func kindForStatus(code int) error {
	switch {
	case code == 403:
		return ErrBlacklisted
	case code == 401:
		return ErrNotVerified
	case code == 404:
		return ErrNotFound
	case code == 408 || code == 504:
		return ErrTimeout
	case code >= 500:
		return ErrServer
	}
	return ErrStatus
}

// StatusError lets an axon handler answer with a given status and message
// (for example 408 or 500); any other handler error becomes a 500.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

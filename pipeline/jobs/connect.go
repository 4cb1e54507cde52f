package jobs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect dials the servers in urls (comma-separated, as nats.go takes
// them: nats://, tls://) with sec. It refuses, with ErrInsecure, a server
// off loopback unless the connection uses TLS (a tls:// URL or sec's TLS
// files) and credentials, or sec.Insecure is set. The connection
// reconnects for ever, to any server of a cluster.
func Connect(urls string, sec Security, name string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkClient(urls, sec); err != nil {
		return nil, err
	}
	opts, err := sec.clientOptions()
	if err != nil {
		return nil, err
	}
	// A generous dial timeout: TLS and bcrypt-hashed passwords on a busy
	// server take more than nats.go's default 2 s.
	opts = append(opts, nats.Name(name), nats.Timeout(10*time.Second), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted()) }))
	// A first connection that fails for another reason than its
	// credentials is tried twice more: a busy server checking a bcrypt
	// password can miss the handshake's timing.
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(urls, opts...)
		if err == nil {
			return nc, nil
		}
		if attempt == 3 || errors.Is(err, nats.ErrAuthorization) || strings.Contains(err.Error(), "Authorization Violation") {
			return nil, fmt.Errorf("jobs: connect %s: %w", urls, err)
		}
		log.Debug("nats connect", "attempt", attempt, "err", err)
		time.Sleep(time.Second)
	}
}

// checkClient parses urls and applies the security policy to them.
func checkClient(urls string, sec Security) error {
	offLoopback, tlsURL, urlCreds := false, false, false
	for _, raw := range strings.Split(urls, ",") {
		raw = strings.TrimSpace(raw)
		if !strings.Contains(raw, "://") {
			raw = "nats://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("jobs: server URL %q: want nats://host:port or tls://host:port", raw)
		}
		switch u.Scheme {
		case "nats", "tls":
		default:
			return fmt.Errorf("jobs: server URL %q: scheme %q: want nats or tls", raw, u.Scheme)
		}
		tlsURL = tlsURL || u.Scheme == "tls"
		offLoopback = offLoopback || !isLoopback(u.Hostname())
		urlCreds = urlCreds || (u.User != nil && u.User.Username() != "")
	}
	usesTLS := tlsURL || sec.TLSCA != "" || sec.TLSCert != ""
	if offLoopback && !sec.Insecure && (!usesTLS || !(sec.hasAuth() || urlCreds)) {
		return fmt.Errorf("jobs: %s: %w", urls, ErrInsecure)
	}
	return nil
}

// ConnectInProcess connects to an embedded server inside this process.
func ConnectInProcess(s *Server, name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", s.InProcess(), nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("jobs: connect in-process: %w", err)
	}
	return nc, nil
}

// clientOptions are sec as nats.go options.
func (s Security) clientOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if s.User != "" {
		opts = append(opts, nats.UserInfo(s.User, s.Password))
	}
	if s.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(s.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("jobs: nkey seed %s: %w", s.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if s.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(s.CredsFile))
	}
	if s.TLSCA != "" {
		opts = append(opts, nats.RootCAs(s.TLSCA))
	}
	if s.TLSCert != "" || s.TLSKey != "" {
		opts = append(opts, nats.ClientCert(s.TLSCert, s.TLSKey))
	}
	return opts, nil
}

package jobs

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerOptions configure an embedded NATS server with JetStream.
type ServerOptions struct {
	// Name is the server's name, unique in a cluster (default
	// splatbench-<pid>).
	Name string
	// StoreDir holds JetStream's files; the streams survive a restart
	// on the same directory.
	StoreDir string
	// Listen is the client address ("127.0.0.1:4222", port 0 for any);
	// "" serves connections inside this process only.
	Listen string
	// ClusterName, ClusterListen and Routes make the server a node of a
	// cluster: its route address and the other nodes' route URLs
	// (nats-route://host:port).
	ClusterName   string
	ClusterListen string
	Routes        []string
	// Security applies to clients and routes; see Security.
	Security Security
	// Log gets the server's warnings and errors (notices at debug).
	Log *slog.Logger
}

// Security is how a server or client proves itself across hosts.
// A server listening on, or a client dialling, an address that is not
// loopback must use TLS and authentication, unless Insecure says
// otherwise; on loopback both are optional.
type Security struct {
	// User and Password authenticate with a user/password pair.
	User, Password string
	// NKeys are the public user nkeys a server accepts (U...).
	NKeys []string
	// NKeySeedFile is a client's nkey seed file (SU...); CredsFile a
	// client's credentials file (JWT + seed) for operator-mode servers.
	NKeySeedFile string
	CredsFile    string
	// TLSCert and TLSKey are this side's certificate; TLSCA verifies the
	// other side (a server with TLSCA also asks clients for certificates).
	TLSCert, TLSKey, TLSCA string
	// Insecure allows plaintext or unauthenticated traffic off loopback.
	Insecure bool
}

func (s Security) hasAuth() bool {
	return s.User != "" || len(s.NKeys) > 0 || s.NKeySeedFile != "" || s.CredsFile != ""
}

// ErrInsecure is what a server or client refuses with when it would talk
// plaintext or unauthenticated off loopback without Insecure.
var ErrInsecure = errors.New("refusing plaintext or unauthenticated NATS off loopback (give TLS and credentials, or allow it explicitly)")

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded server and waits until it accepts
// connections.
func StartServer(o ServerOptions) (*Server, error) {
	if o.Name == "" {
		o.Name = "splatbench-" + strconv.Itoa(os.Getpid())
	}
	if o.StoreDir == "" {
		return nil, errors.New("jobs: embedded server needs a store directory")
	}
	opts := &server.Options{
		ServerName: o.Name, JetStream: true, StoreDir: o.StoreDir,
		NoSigs: true, NoSystemAccount: false, MaxPayload: 8 << 20,
	}
	offLoopback := false
	if o.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("jobs: listen %q: %w", o.Listen, err)
		}
		opts.Host, opts.Port = host, port
		offLoopback = !isLoopback(host)
	}
	if o.ClusterListen != "" {
		host, port, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("jobs: cluster listen %q: %w", o.ClusterListen, err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: host, Port: port}
		offLoopback = offLoopback || !isLoopback(host)
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("jobs: route %q: %w", r, err)
			}
			offLoopback = offLoopback || !isLoopback(u.Hostname())
			opts.Routes = append(opts.Routes, u)
		}
	}
	sec := o.Security
	hasTLS := sec.TLSCert != "" && sec.TLSKey != ""
	if offLoopback && !sec.Insecure && (!hasTLS || !sec.hasAuth()) {
		return nil, fmt.Errorf("jobs: server %s listens off loopback: %w", o.Name, ErrInsecure)
	}
	if hasTLS {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sec.TLSCert, KeyFile: sec.TLSKey,
			CaFile: sec.TLSCA, Verify: sec.TLSCA != ""})
		if err != nil {
			return nil, fmt.Errorf("jobs: server TLS: %w", err)
		}
		opts.TLSConfig, opts.TLS, opts.TLSVerify, opts.TLSTimeout = tc, true, sec.TLSCA != "", 5
		if o.ClusterListen != "" {
			ct := tc.Clone()
			ct.ClientAuth = tls.NoClientCert
			if sec.TLSCA != "" {
				ct.ClientAuth = tls.RequireAndVerifyClientCert
			}
			opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = ct, 5
		}
	}
	if sec.User != "" {
		opts.Users = []*server.User{{Username: sec.User, Password: sec.Password}}
		if o.ClusterListen != "" {
			opts.Cluster.Username, opts.Cluster.Password = sec.User, sec.Password
		}
	}
	for _, k := range sec.NKeys {
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k})
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: server %s: %w", o.Name, err)
	}
	if o.Log != nil {
		ns.SetLoggerV2(slogAdapter{o.Log.With("nats", o.Name)}, false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("jobs: server %s did not start within 30s", o.Name)
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the server's client URL ("" when it serves in-process
// only).
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// RouteURL is the server's cluster route URL ("" outside a cluster).
func (s *Server) RouteURL() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// InProcess is the option that connects a client to s inside this
// process, without a socket.
func (s *Server) InProcess() nats.Option { return nats.InProcessServer(s.ns) }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	if port == 0 {
		port = -1 // the server's "any free port"
	}
	return host, port, nil
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// slogAdapter is the server's logger on slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Noticef(f string, v ...any) { a.l.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Warnf(f string, v ...any)   { a.l.Warn(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Fatalf(f string, v ...any)  { a.l.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Errorf(f string, v ...any)  { a.l.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Debugf(f string, v ...any)  { a.l.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Tracef(f string, v ...any)  { a.l.Debug(fmt.Sprintf(f, v...)) }

package jobs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "splatbench test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestTLSAndAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(dir, "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	otherUser, _ := nkeys.CreateUser()
	otherSeed, _ := otherUser.Seed()
	otherFile := filepath.Join(dir, "other.nk")
	if err := os.WriteFile(otherFile, otherSeed, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		server Security
		client Security
		ok     bool
	}{
		{"user/password over TLS", Security{User: "gpu", Password: "s3cret", TLSCert: cert, TLSKey: key},
			Security{User: "gpu", Password: "s3cret", TLSCA: cert}, true},
		{"wrong password", Security{User: "gpu", Password: "s3cret", TLSCert: cert, TLSKey: key},
			Security{User: "gpu", Password: "guess", TLSCA: cert}, false},
		{"no TLS trust", Security{User: "gpu", Password: "s3cret", TLSCert: cert, TLSKey: key},
			Security{User: "gpu", Password: "s3cret"}, false},
		{"nkey over TLS", Security{NKeys: []string{pub}, TLSCert: cert, TLSKey: key},
			Security{NKeySeedFile: seedFile, TLSCA: cert}, true},
		{"unknown nkey", Security{NKeys: []string{pub}, TLSCert: cert, TLSKey: key},
			Security{NKeySeedFile: otherFile, TLSCA: cert}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", Security: tc.server})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown()
			url := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)
			nc, err := Connect(url, tc.client, "test", nil)
			if !tc.ok {
				if err == nil {
					nc.Close()
					t.Fatal("connected; want a refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := Open(ctx, nc, Config{Memory: true}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Off loopback, plaintext or unauthenticated is refused before any
// connection is tried, on both sides, unless explicitly allowed.
// (checkClient is Connect's policy; the cases are not dialled.)
func TestInsecureOffLoopbackRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		urls string
		sec  Security
		want bool // refused
	}{
		{"nats://10.1.2.3:4222", Security{}, true},
		{"nats://10.1.2.3:4222", Security{User: "u", Password: "p"}, true},    // no TLS
		{"tls://10.1.2.3:4222", Security{}, true},                             // no credentials
		{"nats://127.0.0.1:4222,nats://queue.example:4222", Security{}, true}, // one remote is enough
		{"nats://[::1]:4222", Security{}, false},                              // loopback
		{"nats://localhost:4222", Security{}, false},                          // loopback
		{"tls://u:p@10.1.2.3:4222", Security{}, false},                        // TLS and credentials in the URL
		{"nats://10.1.2.3:4222", Security{Insecure: true}, false},             // explicitly allowed
		{"tls://10.1.2.3:4222", Security{NKeySeedFile: "/some/seed"}, false},
		{"tls://10.1.2.3:4222", Security{CredsFile: "/some/creds"}, false},
		{"nats://10.1.2.3:4222", Security{User: "u", TLSCA: "ca.pem"}, false}, // TLS from the CA
	} {
		err := checkClient(tc.urls, tc.sec)
		if got := errors.Is(err, ErrInsecure); got != tc.want {
			t.Errorf("%s %+v: refused %v (%v), want %v", tc.urls, tc.sec, got, err, tc.want)
		}
	}
	if _, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: "0.0.0.0:0"}); !errors.Is(err, ErrInsecure) {
		t.Errorf("plaintext server on 0.0.0.0: %v, want ErrInsecure", err)
	}
	if _, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", ClusterName: "c",
		ClusterListen: "192.0.2.1:6222"}); !errors.Is(err, ErrInsecure) {
		t.Errorf("plaintext cluster route off loopback: %v, want ErrInsecure", err)
	}
}

// Package tlsconf builds the TLS configurations of a service from its certificate files: the
// gRPC server's (mutual TLS when a client CA is given), the client side of calls to other
// services and to NATS, and the REST gateway's loopback connection to its own gRPC listener.
//
// Certificates are re-read when their files change (checked at most every [ReloadEvery]), so a
// rotation by cert-manager or a sidecar needs no restart. docs/deploy.md "Mutual TLS" shows the
// flags in use.
package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ReloadEvery bounds how often the key pair's files are looked at for a change.
const ReloadEvery = 10 * time.Second

// Files names the PEM files of a service's TLS set-up. Every field is optional; see each
// method for what a missing one means.
type Files struct {
	// Cert and Key are this service's certificate chain and private key: served by the gRPC
	// server and presented as the client certificate on calls to other services and NATS.
	Cert, Key string
	// ClientCA verifies the certificates of callers; set, every caller must present one
	// (mutual TLS).
	ClientCA string
	// CA verifies the servers this service calls (other services, NATS); empty means the
	// system's roots.
	CA string
}

// Enabled reports whether the service serves TLS.
func (f Files) Enabled() bool { return f.Cert != "" }

// Validate checks that the files go together and can be loaded.
func (f Files) Validate() error {
	if (f.Cert == "") != (f.Key == "") {
		return errors.New("a TLS certificate and its key go together: set both or neither")
	}
	if f.ClientCA != "" && f.Cert == "" {
		return errors.New("verifying clients (mutual TLS) needs the server's own certificate and key")
	}
	if f.Cert != "" {
		if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
			return fmt.Errorf("TLS key pair: %w", err)
		}
	}
	for _, p := range []string{f.ClientCA, f.CA} {
		if p != "" {
			if _, err := pool(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Server returns the gRPC server's configuration, or nil when no certificate is configured
// (plaintext). With ClientCA, callers must present a certificate it signed.
func (f Files) Server() (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	kp, err := newKeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get() }}
	if f.ClientCA != "" {
		p, err := pool(f.ClientCA)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = p, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// Client returns the configuration of calls to other services and NATS, or nil when neither a
// CA nor a certificate is configured (plaintext). The service's certificate, if any, is its
// client certificate.
func (f Files) Client() (*tls.Config, error) {
	if f.CA == "" && !f.Enabled() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		p, err := pool(f.CA)
		if err != nil {
			return nil, err
		}
		c.RootCAs = p
	}
	if f.Enabled() {
		kp, err := newKeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, err
		}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
	}
	return c, nil
}

// Loopback returns the configuration of the REST gateway's connection to the service's own
// gRPC listener, or nil when the service serves plaintext. It presents the service's
// certificate (the listener may require one) and accepts exactly the certificate the service
// serves: the address is 127.0.0.1, which the certificate need not name.
func (f Files) Loopback() (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	kp, err := newKeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Hostname and chain checks are replaced by the pin below, not dropped.
		InsecureSkipVerify:   true, //nolint:gosec // pinned to the service's own leaf
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() },
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			own, err := kp.get()
			if err != nil {
				return err
			}
			if len(raw) == 0 || len(own.Certificate) == 0 || !bytes.Equal(raw[0], own.Certificate[0]) {
				return errors.New("tlsconf: the loopback peer is not this service's own certificate")
			}
			return nil
		},
	}, nil
}

func pool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("TLS CA bundle: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("TLS CA bundle %s: no PEM certificate in it", path)
	}
	return p, nil
}

// keyPair is a certificate and key loaded from files and re-loaded when either file's
// modification time changes. A failed re-load keeps the last good pair: the files may be
// mid-rotation.
type keyPair struct {
	cert, key string
	mu        sync.Mutex
	cur       *tls.Certificate
	mod       time.Time
	checked   time.Time
}

func newKeyPair(cert, key string) (*keyPair, error) {
	kp := &keyPair{cert: cert, key: key}
	if err := kp.load(); err != nil {
		return nil, err
	}
	return kp, nil
}

func (kp *keyPair) load() error {
	c, err := tls.LoadX509KeyPair(kp.cert, kp.key)
	if err != nil {
		return fmt.Errorf("TLS key pair: %w", err)
	}
	kp.cur, kp.mod, kp.checked = &c, kp.modTime(), time.Now()
	return nil
}

func (kp *keyPair) modTime() time.Time {
	var latest time.Time
	for _, p := range []string{kp.cert, kp.key} {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest
}

func (kp *keyPair) get() (*tls.Certificate, error) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if time.Since(kp.checked) >= ReloadEvery {
		kp.checked = time.Now()
		if !kp.modTime().Equal(kp.mod) {
			_ = kp.load()
		}
	}
	return kp.cur, nil
}

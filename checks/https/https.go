// Package https checks how an HTTPS target is reached: its certificate (a
// chain to an authority the client trusts, valid for the target's host
// name, and for how much longer), the protocol versions it accepts (TLS
// 1.2 and later only), and that plain HTTP on the same host redirects to
// it. The header that keeps browsers on HTTPS once they got there is
// headers.hsts.
//
// These checks make their own TLS handshakes rather than going through
// the target's HTTP client: a client refuses a bad certificate before
// anyone can see it, and never offers TLS 1.0. A certificate is verified
// here by hand (crypto/x509, against Target.RootCAs or the system's
// authorities) so that the chain shows in the evidence whether it holds
// or not; the protocol probes do not verify it, and say so, since
// https.certificate judges it.
//
// Against an http:// target every check is not applicable, with the
// reason: a plain-HTTP target has no certificate or protocol to judge.
//
// Severities: a certificate clients cannot verify, one that has expired
// or is about to, and TLS 1.0 or 1.1 accepted are high (clients refuse
// the API, or a downgrade exposes every session); a plain-HTTP port that
// serves instead of redirecting is medium (HSTS protects browsers that
// came once; the first visit and every other client are exposed).
package https

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// Checks returns the HTTPS checks in report order.
func Checks() []check.Check {
	return []check.Check{certificate, expiry, protocols, redirect}
}

// HandshakeTimeout bounds one connection and its TLS handshake.
const HandshakeTimeout = 10 * time.Second

// endpoint is an HTTPS target's address and the name its certificate
// must hold.
type endpoint struct {
	addr string // host:port dialled
	name string // the host name (or address) the certificate is verified for
}

// endpointOf reads t's BaseURL; for a target that is not HTTPS it returns
// notHTTPS, the reason every check gives for not applying.
func endpointOf(t *check.Target) (e endpoint, notHTTPS string, err error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil || u.Host == "" {
		return endpoint{}, "", fmt.Errorf("target %q is not a URL with a host", t.BaseURL)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return endpoint{}, "the target " + t.BaseURL + " is not HTTPS: it has no certificate or TLS versions to judge (check the address clients use, https://…; with a managed environment, -tls)", nil
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return endpoint{addr: net.JoinHostPort(u.Hostname(), port), name: u.Hostname()}, "", nil
}

// errConnect wraps a failure to open the TCP connection, which says
// nothing about TLS: no verdict.
var errConnect = errors.New("could not connect")

// handshake opens a TCP connection to e and runs a TLS handshake with
// cfg over it, returning the state of the connection it then closes. A
// failure before TLS wraps errConnect; any other is the handshake's.
func handshake(ctx context.Context, e endpoint, cfg *tls.Config) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("%w to %s: %w", errConnect, e.addr, err)
	}
	defer raw.Close()
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

// inspect is a handshake that accepts any certificate, so that the one
// the target presents can be judged, and described, whatever it is.
func inspect(ctx context.Context, e endpoint) (tls.ConnectionState, error) {
	//nolint:gosec // the chain is verified by hand (verify), so a bad one is evidence, not an opaque error
	return handshake(ctx, e, &tls.Config{ServerName: e.name, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
}

// verify verifies a presented chain as a client of name would, at now.
func verify(chain []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) ([][]*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("the server presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	return chain[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// dayLayout is how evidence dates a certificate.
const dayLayout = "2006-01-02 15:04 UTC"

// describeChain is the presented chain as evidence shows it: the
// protocol, then one line per certificate (subject, names, issuer,
// validity).
func describeChain(st tls.ConnectionState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	for i, c := range st.PeerCertificates {
		fmt.Fprintf(&b, "\ncertificate %d: %s", i, name(c.Subject.CommonName, c.Subject.String()))
		if names := hostsOf(c); names != "" {
			b.WriteString("; names " + names)
		}
		fmt.Fprintf(&b, "; issuer %s; valid %s to %s", name(c.Issuer.CommonName, c.Issuer.String()),
			c.NotBefore.UTC().Format(dayLayout), c.NotAfter.UTC().Format(dayLayout))
	}
	return b.String()
}

func name(cn, full string) string {
	if cn != "" {
		return "CN=" + cn
	}
	return full
}

// hostsOf lists the names and addresses a certificate is valid for.
func hostsOf(c *x509.Certificate) string {
	hosts := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return strings.Join(hosts, ", ")
}

// dialRequest is how evidence names a handshake.
func dialRequest(e endpoint, what string) string {
	s := "TLS handshake with " + e.addr
	if e.name != "" && net.ParseIP(e.name) == nil {
		s += " (server name " + e.name + ")"
	}
	if what != "" {
		s += " " + what
	}
	return s
}

// connectError is the result of a check that could not open a TCP
// connection (no verdict: nothing was said about TLS); ok is false for
// a failure of the handshake itself, which the caller judges.
func connectError(err error) (check.Result, bool) {
	if errors.Is(err, errConnect) {
		return check.Errorf(err.Error() + ": is the target up, and is this its HTTPS address?"), true
	}
	return check.Result{}, false
}

// overHTTPS is a check's Run for an HTTPS target: f runs with the
// target's endpoint; an http:// target is not applicable, with the
// reason, and a target that is no URL an error.
func overHTTPS(f func(ctx context.Context, t *check.Target, e endpoint) check.Result) func(context.Context, *check.Target) check.Result {
	return func(ctx context.Context, t *check.Target) check.Result {
		e, notHTTPS, err := endpointOf(t)
		switch {
		case err != nil:
			return check.Errorf(err.Error())
		case notHTTPS != "":
			return check.NotApplicablef(notHTTPS)
		}
		return f(ctx, t, e)
	}
}

package https

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

var certificate = check.Func{
	M: check.Meta{
		ID: "https.certificate", Title: "Certificate chains to a trusted authority and names the host", Category: check.Transport, Severity: check.High,
		Remediation: "Serve a certificate from an authority the API's clients trust, valid now, naming the host they use (subjectAltName), followed by its intermediates (nginx: ssl_certificate holds the leaf, then the chain). For a private authority, give the checks its certificate with -ca-file.",
		References:  []string{"ASVS 5.0 V12.2.2", "RFC 5280 §6", "RFC 9525", "OWASP API8:2023", "CWE-295"},
	},
	F: overHTTPS(func(ctx context.Context, t *check.Target, e endpoint) check.Result {
		authorities := "the system's trusted authorities"
		if t.RootCAs != nil {
			authorities = "the authorities the checks were given (-ca-file, or the managed environment's)"
		}
		expected := "a chain to " + authorities + ", valid now, naming " + e.name
		st, err := inspect(ctx, e)
		if err != nil {
			if r, ok := connectError(err); ok {
				return r
			}
			return check.Errorf("no TLS handshake with "+e.addr+" to judge its certificate by: "+err.Error(),
				check.Evidence{Request: dialRequest(e, ""), Response: "handshake failed: " + err.Error(), Expected: expected, Observed: "no handshake"})
		}
		ev := check.Evidence{Request: dialRequest(e, ""), Response: describeChain(st), Expected: expected}
		chains, err := verify(st.PeerCertificates, e.name, t.RootCAs, time.Now())
		if err != nil {
			ev.Observed = untrusted(err, t.RootCAs == nil)
			return check.Failf("the certificate of "+e.addr+" does not verify: "+ev.Observed, ev)
		}
		chain := chains[0]
		root := chain[len(chain)-1]
		ev.Observed = fmt.Sprintf("verified for %s: a chain of %d to %s", e.name, len(chain), name(root.Subject.CommonName, root.Subject.String()))
		return check.Passf(fmt.Sprintf("the certificate of %s chains to %s and names %s", e.addr, name(root.Subject.CommonName, root.Subject.String()), e.name), ev)
	}),
}

// untrusted words a verification error for the report.
func untrusted(err error, systemRoots bool) string {
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) && systemRoots {
		return err.Error() + " (for a private authority, give its certificate with -ca-file)"
	}
	return err.Error()
}

var expiry = check.Func{
	M: check.Meta{
		ID: "https.expiry", Title: "Certificate valid for long enough", Category: check.Transport, Severity: check.High,
		Remediation: "Renew the certificate well before it expires, automatically (an ACME client renews a 90-day certificate with 30 days left), and reload what serves it; the policy's cert_min_validity is the least it may have left.",
		References:  []string{"RFC 5280 §4.1.2.5", "CA/Browser Forum Baseline Requirements §6.3.2", "NIST SP 1800-16", "CWE-324"},
	},
	F: overHTTPS(func(ctx context.Context, t *check.Target, e endpoint) check.Result {
		st, err := inspect(ctx, e)
		if err != nil {
			if r, ok := connectError(err); ok {
				return r
			}
			return check.Errorf("no TLS handshake with " + e.addr + " to read its certificate from: " + err.Error())
		}
		if len(st.PeerCertificates) == 0 {
			return check.Failf("the server presented no certificate", check.Evidence{Request: dialRequest(e, ""), Response: describeChain(st), Observed: "no certificate"})
		}
		minLeft := t.Policy.WithDefaults().CertMinValidity
		now := time.Now()
		first := firstToExpire(st.PeerCertificates)
		left := first.NotAfter.Sub(now)
		which := "the certificate"
		if first != st.PeerCertificates[0] {
			which = "its chain (" + name(first.Subject.CommonName, first.Subject.String()) + ")"
		}
		ev := check.Evidence{
			Request:  dialRequest(e, ""),
			Response: describeChain(st),
			Expected: fmt.Sprintf("valid now, with at least %s left (policy cert_min_validity); a warning under %s", days(minLeft), days(2*minLeft)),
			Observed: fmt.Sprintf("%s expires %s, %s", which, first.NotAfter.UTC().Format(dayLayout), relative(left)),
		}
		leaf := st.PeerCertificates[0]
		switch {
		case now.Before(leaf.NotBefore):
			ev.Observed = "the certificate is not valid before " + leaf.NotBefore.UTC().Format(dayLayout)
			return check.Failf("the certificate of "+e.addr+" is not valid yet (from "+leaf.NotBefore.UTC().Format(dayLayout)+"): is the server's clock, or the certificate, wrong?", ev)
		case left <= 0:
			return check.Failf(fmt.Sprintf("%s of %s expired %s ago, on %s: clients refuse it", which, e.addr, days(-left), first.NotAfter.UTC().Format(dayLayout)), ev)
		case left < minLeft:
			return check.Failf(fmt.Sprintf("%s of %s expires in %s, under the policy's %s: renew it now", which, e.addr, days(left), days(minLeft)), ev)
		case left < 2*minLeft:
			return check.Warnf(fmt.Sprintf("%s of %s expires in %s, under twice the policy's %s: its renewal is due (or failing)", which, e.addr, days(left), days(minLeft)), ev)
		}
		return check.Passf(fmt.Sprintf("%s of %s is valid for %s more (until %s), at least twice the policy's %s", which, e.addr, days(left), first.NotAfter.UTC().Format("2006-01-02"), days(minLeft)), ev)
	}),
}

// firstToExpire is the certificate of a presented chain that expires
// first: the chain breaks then. A self-signed certificate after the leaf
// is a root the server sent along; clients use their own copy of it.
func firstToExpire(chain []*x509.Certificate) *x509.Certificate {
	first := chain[0]
	for _, c := range chain[1:] {
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			continue
		}
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	return first
}

// days writes d in days ("14 days", "1 day"), or hours under two days.
func days(d time.Duration) string {
	if d < 48*time.Hour {
		h := int(d.Hours())
		if h == 1 {
			return "1 hour"
		}
		return strconv.Itoa(h) + " hours"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

// relative says when, from now, a moment left away is.
func relative(left time.Duration) string {
	if left <= 0 {
		return days(-left) + " ago"
	}
	return "in " + days(left)
}

// versions are the TLS versions probed, oldest first, and whether each
// may be accepted.
var versions = []struct {
	v       uint16
	allowed bool
}{
	{tls.VersionTLS10, false}, {tls.VersionTLS11, false}, {tls.VersionTLS12, true}, {tls.VersionTLS13, true},
}

// suitesFor are every cipher suite Go implements for version v, insecure
// ones included: a probe must find a server that accepts an old version
// with old suites only, so that "refused" means the version.
func suitesFor(v uint16) []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if slices.Contains(s.SupportedVersions, v) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

var protocols = check.Func{
	M: check.Meta{
		ID: "https.protocols", Title: "Only TLS 1.2 and later accepted", Category: check.Transport, Severity: check.High,
		Remediation: "Accept TLS 1.2 and 1.3 only (nginx: ssl_protocols TLSv1.2 TLSv1.3; Go: tls.Config MinVersion tls.VersionTLS12): TLS 1.0 and 1.1 are deprecated (RFC 8996) and let an attacker who can downgrade a connection attack its weaker cryptography.",
		References:  []string{"RFC 8996", "ASVS 5.0 V12.1.1", "NIST SP 800-52r2 §3.1", "OWASP Transport Layer Security Cheat Sheet", "CWE-327"},
	},
	F: overHTTPS(func(ctx context.Context, t *check.Target, e endpoint) check.Result {
		var ev []check.Evidence
		var accepted, oldAccepted []string
		for _, p := range versions {
			name := tls.VersionName(p.v)
			//nolint:gosec // a probe of the versions alone: the certificate is https.certificate's, and TLS 1.0 is what is looked for
			cfg := &tls.Config{ServerName: e.name, InsecureSkipVerify: true, MinVersion: p.v, MaxVersion: p.v, CipherSuites: suitesFor(p.v), NextProtos: []string{"http/1.1"}}
			st, err := handshake(ctx, e, cfg)
			if r, ok := connectError(err); ok {
				return r
			}
			expected := "refused"
			if p.allowed {
				expected = "accepted (TLS 1.2 or 1.3, at least one)"
			}
			item := check.Evidence{Request: dialRequest(e, "offering only "+name), Expected: expected,
				Note: "the certificate is not verified in this handshake: https.certificate judges it"}
			if err != nil {
				item.Response, item.Observed = "handshake failed: "+err.Error(), name+" refused"
			} else {
				item.Response = "handshake completed: " + tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
				item.Observed = name + " accepted"
				accepted = append(accepted, name)
				if !p.allowed {
					oldAccepted = append(oldAccepted, name)
				}
			}
			ev = append(ev, item)
		}
		switch {
		case len(oldAccepted) > 0:
			return check.Failf(e.addr+" accepts "+strings.Join(oldAccepted, " and ")+", deprecated since RFC 8996: an attacker who can downgrade a client's connection gets its weaker cryptography", ev...)
		case len(accepted) == 0:
			return check.Failf(e.addr+" completed no TLS handshake of any version from 1.0 to 1.3", ev...)
		}
		return check.Passf(e.addr+" refuses TLS 1.0 and 1.1 and accepts "+strings.Join(accepted, " and "), ev...)
	}),
}

// redirectPath is what the redirect check asks for over plain HTTP: a
// route with a query, which a redirect must keep.
const redirectPath = "/api/health?from=plain-http"

var redirect = check.Func{
	M: check.Meta{
		ID: "https.redirect", Title: "Plain HTTP redirects to HTTPS", Category: check.Transport, Severity: check.Medium,
		Remediation: "Answer every plain-HTTP request to the host with a permanent redirect (308, which keeps a POST a POST, or 301) to the same host, path and query over HTTPS, and serve nothing else there (nginx: return 308 https://$host$request_uri;).",
		References:  []string{"MDN Observatory redirection", "ASVS 5.0 V12.2.1", "OWASP Transport Layer Security Cheat Sheet", "RFC 9110 §15.4.9", "CWE-319"},
	},
	F: overHTTPS(func(ctx context.Context, t *check.Target, e endpoint) check.Result {
		plain, given := strings.TrimRight(t.PlainURL, "/"), t.PlainURL != ""
		if !given {
			plain = "http://" + hostForURL(e.name)
		}
		want := strings.TrimRight(t.BaseURL, "/") + redirectPath
		expected := "301 or 308 to " + want
		c := *probe.Client(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		pt := *t
		pt.Client = &c
		x := probe.Send(ctx, &pt, probe.Request{Method: http.MethodGet, Base: plain, Path: redirectPath, Label: "over plain HTTP, at " + plain})
		if x.Err != nil && !given && dialFailed(x.Err) {
			// Nothing listens: nothing is served unencrypted, so there is
			// nothing to redirect (the Observatory scores it the same).
			return check.Passf("nothing answers plain HTTP at "+plain+" ("+probe.ErrString(x.Err)+"): no unencrypted way in to redirect from; set where the host serves plain HTTP, if elsewhere, with -http-url",
				x.Evidence(expected, "no plain-HTTP listener"))
		}
		if err := x.Problem(); err != nil {
			return probe.ErrorResult("the plain-HTTP request to "+plain+" got no answer to judge", err, &x, "Location")
		}
		loc := x.Header.Get("Location")
		if x.Status/100 != 3 || loc == "" {
			observed := probe.StatusLine(x.Status) + " without a redirect"
			return check.Failf(fmt.Sprintf("plain HTTP at %s answered %s instead of redirecting to HTTPS: the API is reachable unencrypted", plain, probe.StatusLine(x.Status)),
				x.Evidence(expected, observed, "Location", "Strict-Transport-Security"))
		}
		to, err := resolve(plain, loc)
		if err != nil || !strings.EqualFold(to.Scheme, "https") {
			return check.Failf("plain HTTP at "+plain+" redirects to "+loc+", which is not HTTPS", x.Evidence(expected, "redirect to "+loc, "Location"))
		}
		observed := fmt.Sprintf("%d to %s", x.Status, to)
		if !sameEndpoint(to, e) || to.RequestURI() != redirectPath {
			return check.Warnf("plain HTTP at "+plain+" redirects to HTTPS, but to "+to.String()+", not the same host, path and query on the target ("+want+")",
				x.Evidence(expected, observed, "Location"))
		}
		if x.Status != http.StatusMovedPermanently && x.Status != http.StatusPermanentRedirect {
			return check.Warnf(fmt.Sprintf("plain HTTP at %s redirects to HTTPS with %s, a temporary redirect: clients and caches do not remember it; use 308 (or 301)", plain, probe.StatusLine(x.Status)),
				x.Evidence(expected, observed, "Location"))
		}
		return check.Passf(fmt.Sprintf("plain HTTP at %s redirects permanently (%d) to the same path and query on %s", plain, x.Status, t.BaseURL), x.Evidence(expected, observed, "Location"))
	}),
}

// resolve reads a Location header, which may be relative, against base.
func resolve(base, loc string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	return b.ResolveReference(l), nil
}

// sameEndpoint reports whether u points at e's host and port.
func sameEndpoint(u *url.URL, e endpoint) bool {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return strings.EqualFold(net.JoinHostPort(u.Hostname(), port), e.addr)
}

// hostForURL is a host as a URL writes it: an IPv6 address in brackets.
func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// dialFailed reports whether err is a failure to connect at all (refused,
// unreachable, timed out connecting), as opposed to a failure after.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

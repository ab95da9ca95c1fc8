package listener

import "crypto/tls"

// TLSConfig is how the API serves HTTPS itself (TLS_CERT_FILE and
// TLS_KEY_FILE): cert, TLS 1.2 and later only (RFC 8996 deprecates 1.0
// and 1.1), Go's cipher suites, and HTTP/1.1, the one protocol the
// server speaks. Wrap the TCP listener with it (tls.NewListener) before
// New, so that connections stay recognisable as TLS through the wrapper
// (fasthttp's IsTLS, and so HSTS).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

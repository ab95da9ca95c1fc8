package env

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// downFor is how long an instance that refused a connection is skipped.
const downFor = time.Second

// Balancer is the one address in front of the API instances: a
// round-robin reverse proxy on a loopback port, as nginx is in the compose
// stack. An instance that refuses connections is skipped for a second, so
// stopping one instance costs at most the requests already on their way
// to it.
type Balancer struct {
	srv     *http.Server
	url     string
	targets []*backend
	next    atomic.Uint64
}

type backend struct {
	url       *url.URL
	downUntil atomic.Int64 // unix nanos
}

// StartBalancer serves a balancer over the given API base URLs.
func StartBalancer(urls []string) (*Balancer, error) {
	b := &Balancer{}
	for _, u := range urls {
		t, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("balancer target %q: %w", u, err)
		}
		b.targets = append(b.targets, &backend{url: t})
	}
	if len(b.targets) == 0 {
		return nil, errors.New("balancer: no targets")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(r.In.Context().Value(backendKey{}).(*backend).url)
			r.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
		},
		ErrorHandler: b.failed,
	}
	b.srv = &http.Server{Handler: b.route(proxy), ReadHeaderTimeout: 10 * time.Second}
	b.url = "http://" + ln.Addr().String()
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

type backendKey struct{}

// route sends the request to the next instance not marked down.
func (b *Balancer) route(proxy *httputil.ReverseProxy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		start := b.next.Add(1) - 1
		pick := b.targets[start%uint64(len(b.targets))]
		for i := range uint64(len(b.targets)) {
			if t := b.targets[(start+i)%uint64(len(b.targets))]; t.downUntil.Load() <= now {
				pick = t
				break
			}
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, pick)))
	})
}

// failed marks an instance that refused the connection as down and
// answers 502 in the API's error shape.
func (b *Balancer) failed(w http.ResponseWriter, r *http.Request, err error) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		r.Context().Value(backendKey{}).(*backend).downUntil.Store(time.Now().Add(downFor).UnixNano())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprint(w, `{"message":"no API instance answered"}`)
}

// URL is the balancer's address.
func (b *Balancer) URL() string { return b.url }

// Close stops the balancer.
func (b *Balancer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

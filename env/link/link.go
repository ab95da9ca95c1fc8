// Package link is a network path between two parts of the system under
// test (the clients and the API, the API and a store) that faults can be
// played on: a toxiproxy proxy run in this process, listening on
// loopback, whose toxics are the faults (Fault), plus Down, the proxy
// disabled. Faults are applied by name, so that two faults on one link
// are undone one at a time.
//
// A Link is safe for concurrent use.
package link

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// ErrNoFault is the error of removing a fault the link is not under.
var ErrNoFault = errors.New("no such fault")

// Link forwards connections from its loopback address to an upstream.
type Link struct {
	addr  string
	proxy *toxiproxy.Proxy

	mu     sync.Mutex
	faults map[string]Fault // in force, by name
}

// toxiproxy's toxics log through zerolog's global logger, a trace line per
// interrupted chunk: thousands a second under load, on the harness's own
// terminal. Nothing else here logs through zerolog.
func init() { zerolog.SetGlobalLevel(zerolog.Disabled) }

// Start listens on a free loopback port and forwards to upstream
// ("host:port"); name says which link it is in toxiproxy's terms.
func Start(name, upstream string) (*Link, error) {
	// No metrics and no logs: toxiproxy's server is only the proxies'
	// owner here, and its API is never served.
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("link %s to %s: %w", name, upstream, err)
	}
	// Start returned after the listener took its port, which Listen now
	// holds; restarts (after down) listen there again.
	return &Link{addr: p.Listen, proxy: p, faults: map[string]Fault{}}, nil
}

// Addr is the link's address, to use instead of the upstream's.
func (l *Link) Addr() string { return l.addr }

// Faults are the names of the faults in force, sorted.
func (l *Link) Faults() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.faults))
}

// Apply puts the link under f, called name; a fault already called name
// is undone first. It acts on open connections and new ones alike.
func (l *Link) Apply(name string, f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.faults[name]; ok {
		if err := l.remove(name, old); err != nil {
			return err
		}
	}
	if f.Action == Down {
		// Stop closes the listener and every connection; it is a no-op
		// when another down did it already.
		l.proxy.Stop()
		l.faults[name] = f
		return nil
	}
	for _, t := range toxics(name, f) {
		body, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("link %s: %s: %w", l.proxy.Name, f.Action, err)
		}
		if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
			// Leave nothing half applied: the other direction's toxic.
			for _, t := range toxics(name, f) {
				_ = l.proxy.Toxics.RemoveToxic(context.Background(), t.Name)
			}
			return fmt.Errorf("link %s: %s: %w", l.proxy.Name, f.Action, err)
		}
	}
	l.faults[name] = f
	return nil
}

// Remove undoes the fault called name; ErrNoFault when there is none.
func (l *Link) Remove(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.faults[name]
	if !ok {
		return fmt.Errorf("link %s: %w %q (in force: %v)", l.proxy.Name, ErrNoFault, name, slices.Sorted(maps.Keys(l.faults)))
	}
	return l.remove(name, f)
}

// Heal undoes every fault.
func (l *Link) Heal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(l.faults)) {
		errs = append(errs, l.remove(name, l.faults[name]))
	}
	return errors.Join(errs...)
}

// remove undoes f, called name; l.mu is held. A fault that could not be
// undone stays in force, so that undoing it can be tried again.
func (l *Link) remove(name string, f Fault) error {
	if f.Action != Down {
		for _, t := range toxics(name, f) {
			err := l.proxy.Toxics.RemoveToxic(context.Background(), t.Name)
			if err != nil && !errors.Is(err, toxiproxy.ErrToxicNotFound) {
				return fmt.Errorf("link %s: undo %s: %w", l.proxy.Name, name, err)
			}
		}
		delete(l.faults, name)
		return nil
	}
	for other, g := range l.faults {
		if other != name && g.Action == Down {
			delete(l.faults, name)
			return nil // still down for that one
		}
	}
	// The same port again: the link's users keep its address.
	if err := l.proxy.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
		return fmt.Errorf("link %s: listen again on %s: %w", l.proxy.Name, l.addr, err)
	}
	delete(l.faults, name)
	return nil
}

// Close stops the link and closes every connection.
func (l *Link) Close() error {
	l.proxy.Stop()
	return nil
}

// toxic is a toxic as toxiproxy's ToxicCollection reads it.
type toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float32          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// toxics are the toxics that play f, called name: one per direction,
// so that a fault acts each way (toxiproxy's upstream is what the
// clients send, its downstream what they are answered).
func toxics(name string, f Fault) []toxic {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	var attrs map[string]int64
	typ := f.Action
	switch f.Action {
	case Latency:
		typ = latencyToxic
		attrs = map[string]int64{"latency_us": f.Latency.Microseconds(), "jitter_us": f.Jitter.Microseconds()}
	case Bandwidth:
		attrs = map[string]int64{"rate": f.Rate}
	case Timeout, ResetPeer:
		attrs = map[string]int64{"timeout": ms(f.Timeout)}
	case SlowClose:
		attrs = map[string]int64{"delay": ms(f.Delay)}
	case Slicer:
		attrs = map[string]int64{"average_size": f.Size, "size_variation": f.Variation, "delay": f.Delay.Microseconds()}
	case LimitData:
		attrs = map[string]int64{"bytes": f.Bytes}
	}
	out := make([]toxic, 0, 2)
	for _, stream := range []string{"upstream", "downstream"} {
		out = append(out, toxic{Name: name + "/" + stream, Type: typ, Stream: stream, Toxicity: 1, Attributes: attrs})
	}
	return out
}

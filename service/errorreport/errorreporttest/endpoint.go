// Package errorreporttest is a Sentry ingestion endpoint on a loopback
// port, for tests: it takes the envelopes the Sentry SDK posts to
// /api/<project>/envelope/, keeps them as received, and can be made to
// hang to show that nothing waits for it.
package errorreporttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Project is the project id of every Endpoint's DSN.
const Project = "42"

// PublicKey is the key in every Endpoint's DSN.
const PublicKey = "0123456789abcdef0123456789abcdef"

// Endpoint receives envelopes like Sentry's ingestion API.
type Endpoint struct {
	srv *httptest.Server

	mu        sync.Mutex
	envelopes []Envelope
	requests  int
	strays    []string // requests to any other path or method
	hang      chan struct{}
	delay     time.Duration // before each answer
	delivered int           // event envelopes answered 200
	arrived   chan struct{} // receives one value per request, never blocking
}

// Envelope is one envelope as the SDK sent it.
type Envelope struct {
	Raw    []byte         // the request body, byte for byte
	Auth   string         // the X-Sentry-Auth header
	Header map[string]any // the envelope's first line
	Items  []Item
}

// Item is one item of an envelope.
type Item struct {
	Header  map[string]any
	Payload json.RawMessage
}

// Type is the item's type: "event", "client_report", ...
func (i Item) Type() string {
	t, _ := i.Header["type"].(string)
	return t
}

// New starts an Endpoint on a loopback port, stopped with the test.
func New(tb testing.TB) *Endpoint {
	tb.Helper()
	e := &Endpoint{arrived: make(chan struct{}, 1<<16)}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	tb.Cleanup(e.Close)
	return e
}

// DSN is the DSN that sends to this endpoint.
func (e *Endpoint) DSN() string {
	return "http://" + PublicKey + "@" + strings.TrimPrefix(e.srv.URL, "http://") + "/" + Project
}

// Hang makes every request from now on wait, unanswered, until Release,
// Close or the client gives up.
func (e *Endpoint) Hang() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hang == nil {
		e.hang = make(chan struct{})
	}
}

// Delay makes every answer from now on wait d after the request arrived,
// as a distant Sentry would: a sender that does not wait for the answer
// has not delivered.
func (e *Endpoint) Delay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.delay = d
}

// Delivered is how many envelopes with an event were answered 200: what
// the sender knows to have arrived.
func (e *Endpoint) Delivered() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.delivered
}

// Release answers the waiting requests and stops hanging.
func (e *Endpoint) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hang != nil {
		close(e.hang)
		e.hang = nil
	}
}

// Close releases any hanging request and stops the server.
func (e *Endpoint) Close() {
	e.Release()
	e.srv.Close()
}

// Requests is how many requests arrived, on any path.
func (e *Endpoint) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// Strays lists the requests that were not envelope posts to the project.
func (e *Endpoint) Strays() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.strays...)
}

// Envelopes returns the envelopes received so far.
func (e *Endpoint) Envelopes() []Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Envelope(nil), e.envelopes...)
}

// Events returns the envelopes that carry an error event, in arrival order
// (the SDK also sends client reports, counts of what it dropped).
func (e *Endpoint) Events() []Envelope {
	var out []Envelope
	for _, env := range e.Envelopes() {
		for _, it := range env.Items {
			if it.Type() == "event" {
				out = append(out, env)
				break
			}
		}
	}
	return out
}

// Event is the part of a Sentry error event that tests read.
type Event struct {
	EventID     string            `json:"event_id"`
	Level       string            `json:"level"`
	Release     string            `json:"release"`
	Environment string            `json:"environment"`
	Transaction string            `json:"transaction"`
	Message     string            `json:"message"`
	Tags        map[string]string `json:"tags"`
	Fingerprint []string          `json:"fingerprint"`
	Request     json.RawMessage   `json:"request"`
	User        json.RawMessage   `json:"user"`
	Modules     json.RawMessage   `json:"modules"`
	Exception   []Exception       `json:"exception"`
}

// Exception is one error of an event's chain, or a panic.
type Exception struct {
	Type       string `json:"type"`
	Value      string `json:"value"`
	Stacktrace *struct {
		Frames []Frame `json:"frames"`
	} `json:"stacktrace"`
	Mechanism *struct {
		Type    string `json:"type"`
		Handled *bool  `json:"handled"`
	} `json:"mechanism"`
}

// Frame is one frame of a stack, outermost first.
type Frame struct {
	Function string `json:"function"`
	Module   string `json:"module"`
	InApp    bool   `json:"in_app"`
}

// DecodedEvents returns the error events received so far, decoded.
func (e *Endpoint) DecodedEvents(tb testing.TB) []Event {
	tb.Helper()
	var out []Event
	for _, env := range e.Events() {
		for _, it := range env.Items {
			if it.Type() != "event" {
				continue
			}
			var ev Event
			if err := json.Unmarshal(it.Payload, &ev); err != nil {
				tb.Fatalf("event payload: %v\n%s", err, it.Payload)
			}
			out = append(out, ev)
		}
	}
	return out
}

// WaitRequest returns once a request has arrived since the last call, or
// ctx's error.
func (e *Endpoint) WaitRequest(ctx context.Context) error {
	select {
	case <-e.arrived:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no request reached the Sentry endpoint: %w", ctx.Err())
	}
}

func (e *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	e.mu.Lock()
	e.requests++
	hang := e.hang
	ok := r.Method == http.MethodPost && r.URL.Path == "/api/"+Project+"/envelope/"
	if !ok {
		e.strays = append(e.strays, r.Method+" "+r.URL.Path)
	}
	delay := e.delay
	var parseErr error
	var event bool
	if ok && err == nil {
		var env Envelope
		if env, parseErr = Parse(body); parseErr == nil {
			env.Auth = r.Header.Get("X-Sentry-Auth")
			e.envelopes = append(e.envelopes, env)
			event = slices.ContainsFunc(env.Items, func(it Item) bool { return it.Type() == "event" })
		} else {
			e.strays = append(e.strays, "unparsable envelope: "+parseErr.Error())
		}
	}
	e.mu.Unlock()
	select {
	case e.arrived <- struct{}{}:
	default:
	}
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case !ok:
		http.NotFound(w, r)
	case err != nil || parseErr != nil:
		http.Error(w, "bad envelope", http.StatusBadRequest)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"`+strconv.Itoa(len(body))+`"}`)
		if event {
			e.mu.Lock()
			e.delivered++
			e.mu.Unlock()
		}
	}
}

// Parse reads an envelope: a JSON header line, then items, each a JSON
// header line and a payload of the header's length or up to the next
// newline.
func Parse(raw []byte) (Envelope, error) {
	env := Envelope{Raw: raw}
	rd := bufio.NewReader(bytes.NewReader(raw))
	line, err := rd.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	if err := json.Unmarshal(line, &env.Header); err != nil {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	for {
		line, err := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				return env, nil
			}
			if err != nil {
				return env, err
			}
			continue
		}
		var it Item
		if err := json.Unmarshal(line, &it.Header); err != nil {
			return env, fmt.Errorf("item header %q: %w", line, err)
		}
		var payload []byte
		if n, ok := it.Header["length"].(float64); ok {
			payload = make([]byte, int(n))
			if _, err := io.ReadFull(rd, payload); err != nil {
				return env, fmt.Errorf("item payload of %d bytes: %w", int(n), err)
			}
			_, _ = rd.ReadByte() // the newline after it
		} else {
			payload, err = rd.ReadBytes('\n')
			if err != nil && err != io.EOF {
				return env, err
			}
			payload = bytes.TrimSuffix(payload, []byte("\n"))
		}
		it.Payload = payload
		env.Items = append(env.Items, it)
	}
}

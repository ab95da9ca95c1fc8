package env

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/taskready/taskready/env/link"
)

// Endpoints is what a running environment offers, as `harness up` prints
// it and writes it for other commands (seed, fault, checks) to find.
type Endpoints struct {
	Provider    string   `json:"provider"`
	ID          string   `json:"id,omitempty"`
	Description string   `json:"description"`
	Notes       []string `json:"notes,omitempty"`
	Target      string   `json:"target"`
	APIs        []string `json:"apis,omitempty"`
	// Metrics are the APIs' Prometheus endpoints, in the order of APIs.
	Metrics        []string `json:"metrics,omitempty"`
	MongoURI       string   `json:"mongo_uri,omitempty"`
	RedisURL       string   `json:"redis_url,omitempty"`
	RedisReplicas  []string `json:"redis_replicas,omitempty"`
	Sentinels      []string `json:"sentinels,omitempty"`
	SentinelMaster string   `json:"sentinel_master,omitempty"`
	Components     []string `json:"components"`
	Links          []string `json:"links,omitempty"`
	// Control is the loopback URL faults are sent to while `harness up`
	// holds the environment.
	Control string `json:"control,omitempty"`
}

// Endpoints describes e.
func (e *Env) Endpoints() Endpoints {
	ep := Endpoints{
		Provider: e.Provider, ID: e.Stores.ID, Description: e.Description(), Notes: e.Stores.Notes, Target: e.Target,
		MongoURI: e.Stores.MongoURI, RedisURL: e.Stores.RedisURL, RedisReplicas: e.Stores.RedisReplicaURLs,
		Sentinels: e.Stores.SentinelAddrs, SentinelMaster: e.Stores.SentinelMaster,
	}
	for _, a := range e.APIs {
		ep.APIs = append(ep.APIs, a.URL())
		ep.Metrics = append(ep.Metrics, a.MetricsURL())
	}
	for _, c := range e.Components() {
		ep.Components = append(ep.Components, c.Name())
	}
	ep.Links = slices.Sorted(maps.Keys(e.Links))
	return ep
}

// Actions are the faults a component can undergo.
var Actions = []string{"stop", "start", "pause", "unpause", "kill"}

// Apply runs action ("stop", "start", ...) on the component called name.
func (e *Env) Apply(ctx context.Context, name, action string) error {
	c, err := e.Component(name)
	if err != nil {
		return err
	}
	switch action {
	case "stop":
		return c.Stop(ctx)
	case "start":
		return c.Start(ctx)
	case "pause":
		return c.Pause(ctx)
	case "unpause":
		return c.Unpause(ctx)
	case "kill":
		return c.Kill(ctx)
	}
	return fmt.Errorf("unknown fault %q (one of %v)", action, Actions)
}

// ServeControl serves e's faults on a loopback port until ctx ends, so
// that `harness fault` can act on an environment `harness up` holds. It
// returns the control URL.
func ServeControl(ctx context.Context, e *Env) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("control: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /endpoints", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.Endpoints())
	})
	mux.HandleFunc("POST /components/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		err := e.Apply(ctx, r.PathValue("name"), r.PathValue("action"))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case err == nil:
			fmt.Fprint(w, `{"ok":true}`)
		case errors.Is(err, ErrNoComponent) || !slices.Contains(Actions, r.PathValue("action")):
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		default:
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		}
	})
	// A link's fault is called by its action: a second one of the same
	// action replaces the first, and heal?fault=ACTION undoes it alone.
	mux.HandleFunc("POST /links/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		name, action := r.PathValue("name"), r.PathValue("action")
		var err error
		status := http.StatusNotFound
		if action == "heal" {
			err = e.Restore(name, r.URL.Query().Get("fault"))
		} else {
			values := map[string]string{}
			for k, v := range r.URL.Query() {
				values[k] = v[len(v)-1]
			}
			var f link.Fault
			if f, err = link.Parse(action, values); err != nil {
				status = http.StatusBadRequest
			} else {
				err = e.Degrade(name, action, f)
			}
		}
		if err != nil {
			if status != http.StatusBadRequest && !errors.Is(err, ErrNoComponent) && !errors.Is(err, link.ErrNoFault) {
				status = http.StatusConflict
			}
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// Fault asks the environment behind control to apply action to the
// component called name.
func Fault(ctx context.Context, control, name, action string) error {
	return post(ctx, control+"/components/"+url.PathEscape(name)+"/"+url.PathEscape(action), name, action)
}

// DegradeLink asks the environment behind control to put the link
// called name under action, with its parameters by name (link.Params:
// "latency" → "200ms"), in place of any fault of that action on it.
func DegradeLink(ctx context.Context, control, name, action string, params map[string]string) error {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return post(ctx, control+"/links/"+url.PathEscape(name)+"/"+url.PathEscape(action)+"?"+q.Encode(), name, action)
}

// HealLink asks the environment behind control to undo the fault of
// action on the link called name, or every fault on it when action is "".
func HealLink(ctx context.Context, control, name, action string) error {
	q := url.Values{}
	if action != "" {
		q.Set("fault", action)
	}
	return post(ctx, control+"/links/"+url.PathEscape(name)+"/heal?"+q.Encode(), name, "heal")
}

func post(ctx context.Context, target, name, action string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fault: the environment does not answer (is `harness up` still running?): %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("fault %s %s: %s", action, name, e.Error)
		}
		return fmt.Errorf("fault %s %s: %s %s", action, name, res.Status, bytes.TrimSpace(body))
	}
	return nil
}

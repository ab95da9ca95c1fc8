package journey_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/wiretally"
	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// TestBytesOnTheWire: a sample's BytesOut and BytesIn (data_sent and
// data_received) are exactly the bytes the server read and wrote for the
// step, redirects included, with the fasthttp transport and with net/http
// under transport.CountConns; through a transport that cannot count, the
// bodies' lengths.
func TestBytesOnTheWire(t *testing.T) {
	var n wiretally.Tally
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, "/api/tasks", http.StatusFound)
	})
	answer := `{"task":{"_id":"65f0c1","title":"` + strings.Repeat("x", 200) + `"}}`
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = n.Listen(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)

	create := step("create", "POST", "/api/tasks")
	create.Headers = map[string]string{"Authorization": "Bearer {{user.email}}"}
	create.Body = map[string]any{"title": "Load test task", "status": "pending"}
	const createBody = `{"status":"pending","title":"Load test task"}`
	list := step("list", "GET", "/api/tasks?page=1&limit=10")
	moved := step("moved", "POST", "/moved")
	moved.Body = map[string]any{"a": 1}

	for _, tc := range []struct {
		name    string
		client  *http.Client
		counted bool
	}{
		{"fast", transport.NewClient(transport.Options{}), true},
		{"std", &http.Client{Transport: transport.CountConns(&http.Transport{DisableCompression: true})}, true},
		{"uncounted", srv.Client(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.client.CloseIdleConnections()
			vu := journey.VU{ID: 1, User: journey.User{Index: 1, Email: "seed@example.com"}, Client: tc.client, Target: srv.URL}
			for _, st := range []scenario.Step{create, list, create, moved} {
				read0, written0 := n.Read.Load(), n.Written.Load()
				ss := journey.Run(context.Background(), &scenario.Journey{Name: "j", Steps: []scenario.Step{st}}, vu, journey.Tags{})
				if len(ss) != 1 || ss[0].Err != "" || ss[0].Status != 200 {
					t.Fatalf("%s: samples %+v", st.Name, ss)
				}
				s := ss[0]
				read, written := n.Read.Load()-read0, n.Written.Load()-written0
				if !tc.counted {
					if st.Name == "create" && (s.BytesOut != int64(len(createBody)) || s.BytesIn != int64(len(answer))) {
						t.Errorf("%s: BytesOut %d, BytesIn %d; want the bodies' %d and %d", st.Name, s.BytesOut, s.BytesIn, len(createBody), len(answer))
					}
					continue
				}
				if s.BytesOut != read || s.BytesIn != written {
					t.Errorf("%s: BytesOut %d, BytesIn %d; the server read %d and wrote %d", st.Name, s.BytesOut, s.BytesIn, read, written)
				}
			}
		})
	}
}

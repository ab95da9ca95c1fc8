package journey_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// tally counts the bytes a server read and wrote on all its connections.
type tally struct{ read, written atomic.Int64 }

type tallyListener struct {
	net.Listener
	t *tally
}

func (l tallyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tallyConn{Conn: c, t: l.t}, nil
}

type tallyConn struct {
	net.Conn
	t *tally
}

func (c *tallyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.t.read.Add(int64(n))
	return n, err
}

// Write counts first, so that a client that has read the bytes sees them
// counted.
func (c *tallyConn) Write(p []byte) (int, error) {
	c.t.written.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.t.written.Add(int64(n - len(p)))
	return n, err
}

// TestBytesOnTheWire: a sample's BytesOut and BytesIn (data_sent and
// data_received) are exactly the bytes the server read and wrote for the
// step, redirects included, with the fasthttp transport and with net/http
// under transport.CountConns; through a transport that cannot count, the
// bodies' lengths.
func TestBytesOnTheWire(t *testing.T) {
	var n tally
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
	srv.Listener = tallyListener{srv.Listener, &n}
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
				read0, written0 := n.read.Load(), n.written.Load()
				ss := journey.Run(context.Background(), &scenario.Journey{Name: "j", Steps: []scenario.Step{st}}, vu, journey.Tags{})
				if len(ss) != 1 || ss[0].Err != "" || ss[0].Status != 200 {
					t.Fatalf("%s: samples %+v", st.Name, ss)
				}
				s := ss[0]
				read, written := n.read.Load()-read0, n.written.Load()-written0
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

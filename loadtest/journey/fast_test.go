package journey_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// TestFastTransport runs the journey tests again with the fasthttp
// transport, which Run drives through transport.Exchange rather than
// client.Do: the samples must not tell the two apart.
func TestFastTransport(t *testing.T) {
	c := transport.NewClient(transport.Options{})
	defer func(old func(*fakeAPI) *http.Client) { client = old }(client)
	client = func(*fakeAPI) *http.Client { return c }
	for name, test := range map[string]func(*testing.T){
		"Templating":                      TestTemplating,
		"UUIDIsNewOnEveryUse":             TestUUIDIsNewOnEveryUse,
		"UndefinedVariable":               TestUndefinedVariable,
		"Extraction":                      TestExtraction,
		"FailingCheckStopsTheJourney":     TestFailingCheckStopsTheJourney,
		"Timeout":                         TestTimeout,
		"ThinkTimeGoesThroughSleep":       TestThinkTimeGoesThroughSleep,
		"CancelledContextAttemptsNothing": TestCancelledContextAttemptsNothing,
		"IntendedAppliesToTheFirstStep":   TestIntendedAppliesToTheFirstStep,
		"ShippedSmokeAgainstFake":         TestShippedSmokeAgainstFake,
		"Requests":                        testRequests,
	} {
		t.Run(name, test)
	}
}

// TestRequests checks what reaches the server and what a sample says for
// the cases the two paths handle apart: redirects, headers, errors.
func TestRequests(t *testing.T) { testRequests(t) }

func testRequests(t *testing.T) {
	var got struct {
		method, uri, host, auth, ctype, ua, custom string
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/to/{code}", func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"301": 301, "302": 302, "303": 303, "307": 307, "308": 308}[r.PathValue("code")]
		http.Redirect(w, r, "/landing?from="+r.PathValue("code"), code)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", 302) })
	mux.HandleFunc("/nolocation", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(302) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, journey.MaxBody+1))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		got.method, got.uri, got.host = r.Method, r.RequestURI, r.Host
		got.auth, got.ctype, got.ua, got.custom = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), r.Header.Get("X-Custom")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	vu := journey.VU{ID: 1, Client: client(&fakeAPI{Server: srv}), Target: srv.URL + "/"}
	one := func(st scenario.Step) record.Sample {
		t.Helper()
		ss := journey.Run(context.Background(), &scenario.Journey{Name: "j", Steps: []scenario.Step{st}}, vu, journey.Tags{})
		if len(ss) != 1 {
			t.Fatalf("%d samples", len(ss))
		}
		return ss[0]
	}

	st := step("h", "PUT", "/p%2Fq?x=1")
	st.Headers = map[string]string{"x-custom": "lower", "X-Custom": "upper", "host": "api.example", "Content-Type": ""}
	st.Body = map[string]any{"a": 1}
	// The body of 7 bytes and the answer's 11, or with the fasthttp
	// transport, which counts the wire, their headers too.
	_, wire := vu.Client.Transport.(*transport.Transport)
	if s := one(st); s.Err != "" || s.Status != 200 || wire != (s.BytesOut > 7 && s.BytesIn > 11) || !wire && (s.BytesOut != 7 || s.BytesIn != 11) {
		t.Errorf("headers: %+v", s)
	}
	// "x-custom" sorts after "X-Custom", so its Set is the last and wins.
	if got.method != "PUT" || got.uri != "/p%2Fq?x=1" || got.host != "api.example" || got.custom != "lower" ||
		got.ctype != "application/json" || got.ua != "Go-http-client/1.1" {
		t.Errorf("headers: server saw %+v", got)
	}

	for _, code := range []string{"301", "302", "303", "307", "308"} {
		st := step("r", "POST", "/to/"+code)
		st.Body = map[string]any{"a": 1}
		s := one(st)
		want := "GET"
		if code == "307" || code == "308" {
			want = "POST"
		}
		if s.Err != "" || s.Status != 200 || got.method != want || got.uri != "/landing?from="+code {
			t.Errorf("redirect %s: sample %+v, server saw %+v", code, s, got)
		}
	}
	if s := one(step("r", "GET", "/nolocation")); s.Err != "" || s.Status != 302 || passed(s) {
		t.Errorf("302 without Location: %+v", s)
	}
	if s := one(step("r", "GET", "/loop")); !strings.Contains(s.Err, "stopped after 10 redirects") || s.Status != 0 {
		t.Errorf("redirect loop: %+v", s)
	}
	// What was read of it: up to the cap through net/http, on the wire
	// with the fasthttp transport, which stops at the Content-Length.
	// Ten megabytes under the race detector on a busy machine can take
	// longer than a step's usual 5s; the cap, not the speed, is tested.
	big := step("b", "GET", "/big")
	big.Timeout = 2 * time.Minute
	if s := one(big); s.Err != "answer larger than 10485760 bytes" || s.Status != 200 || s.BytesIn <= 0 || s.BytesIn > journey.MaxBody {
		t.Errorf("big answer: %+v", s)
	}
	if s := one(step("m", "BAD METHOD", "/x")); s.Err != `net/http: invalid method "BAD METHOD"` || s.Status != 0 {
		t.Errorf("bad method: %+v", s)
	}

	userVU := vu
	userVU.Target = strings.Replace(srv.URL, "http://", "http://me:secret@", 1)
	ss := journey.Run(context.Background(), &scenario.Journey{Name: "j", Steps: []scenario.Step{step("u", "GET", "/u")}}, userVU, journey.Tags{})
	if len(ss) != 1 || ss[0].Err != "" || got.auth != "Basic bWU6c2VjcmV0" {
		t.Errorf("user in the URL: %+v, Authorization %q", ss, got.auth)
	}

	down := vu
	down.Target = "http://127.0.0.1:1"
	s := journey.Run(context.Background(), &scenario.Journey{Name: "j", Steps: []scenario.Step{step("d", "GET", "/d")}}, down, journey.Tags{})[0]
	if !strings.HasPrefix(s.Err, `Get "http://127.0.0.1:1/d": `) || !strings.Contains(s.Err, "refused") || s.Status != 0 {
		t.Errorf("refused: %+v", s)
	}

	// A parent deadline without a step timeout is the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	slow := http.NewServeMux()
	slow.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ss2 := httptest.NewServer(slow)
	defer ss2.Close()
	svu := vu
	svu.Target = ss2.URL
	st = step("s", "GET", "/s")
	st.Timeout = 0
	out := journey.Run(ctx, &scenario.Journey{Name: "j", Steps: []scenario.Step{st}}, svu, journey.Tags{})
	if len(out) != 1 || out[0].Err != `Get "`+ss2.URL+`/s": context deadline exceeded` {
		t.Errorf("parent deadline: %+v", out)
	}
}

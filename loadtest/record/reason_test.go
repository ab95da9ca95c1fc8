package record_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		s      record.Sample
		failed bool
		want   string
	}{
		{"passed", record.Sample{Status: 200, CheckPassed: boolp(true)}, false, ""},
		{"no check, ok", record.Sample{Status: 204}, false, ""},
		{"status", record.Sample{Status: 404, CheckPassed: boolp(false), Check: "status 404, want 2xx"}, true, "status 404 Not Found"},
		{"rate limited", record.Sample{Status: 429}, true, "status 429 Too Many Requests"},
		{"unnamed status", record.Sample{Status: 599}, true, "status 599"},
		{"no response", record.Sample{}, true, "no response"},
		{"check only", record.Sample{Status: 200, CheckPassed: boolp(false), Check: "status 200, want 201"}, false, "check: status 200, want 201"},
		{"check without words", record.Sample{Status: 200, CheckPassed: boolp(false)}, false, "check failed"},
		{"transport", record.Sample{Err: `Get "http://127.0.0.1:41234/tasks": dial tcp 127.0.0.1:41234: connect: connection refused`}, true, "connection refused"},
		{"step timeout", record.Sample{Err: "timeout after 10s"}, true, "timeout after 10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := record.Reason(tt.s, tt.failed); got != tt.want {
				t.Errorf("Reason = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeError(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"EOF", "EOF"},
		{`Post "http://10.0.0.7:8080/login": EOF`, "EOF"},
		{"read tcp 127.0.0.1:50412->127.0.0.1:8080: read: connection reset by peer", "connection reset"},
		{"transport: the server closed the connection before answering: unexpected EOF", "closed before answering"},
		{"dial tcp: lookup api.invalid on 127.0.0.53:53: no such host", "no such host"},
		{"read answer: net/http: request canceled", "read answer: net/http: request canceled"},
		{`Get "http://[::1]:9000/x": weird failure at [::1]:9000 id 0123abcdef99`, "weird failure at ADDR id ADDR"},
		{"bad answer from api.example.com:8443 after 12345 bytes", "bad answer from ADDR after N bytes"},
		{"extract token: no token in the answer", "extract token: no token in the answer"},
		{strings.Repeat("x", 500), strings.Repeat("x", 97) + "…"},
	}
	for _, tt := range tests {
		if got := record.NormalizeError(tt.in); got != tt.want {
			t.Errorf("NormalizeError(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// A target answering every request with another error cannot grow the
// recorder: the first MaxReasons keep their names, the rest are other.
func TestReasonsBounded(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	const n = 1000
	for i := range n {
		r.Add(record.Sample{Endpoint: "get", Status: 0, Start: base, Latency: time.Millisecond,
			Err: fmt.Sprintf("strange error %d", i)})
	}
	got := r.Snapshot().Total.Reasons
	if len(got) != record.MaxReasons+1 || got[record.ReasonOther] != n-record.MaxReasons {
		t.Fatalf("%d reasons, %d other; want %d names and %d other", len(got), got[record.ReasonOther], record.MaxReasons, n-record.MaxReasons)
	}
	var sum int64
	for _, c := range got {
		sum += c
	}
	if sum != n {
		t.Errorf("reasons count %d failures; want %d", sum, n)
	}

	// Merging keeps the bound, and the most frequent reasons keep their
	// names: o's "frequent" outnumbers each of r's.
	o := record.MustNew(base)
	for range 5 {
		o.Add(record.Sample{Endpoint: "get", Status: 503, Start: base, Latency: time.Millisecond})
	}
	if err := o.Merge(r); err != nil {
		t.Fatal(err)
	}
	merged := o.Snapshot().Total.Reasons
	if len(merged) != record.MaxReasons+1 || merged["status 503 Service Unavailable"] != 5 || merged[record.ReasonOther] != n-record.MaxReasons+1 {
		t.Errorf("merged reasons = %v", merged)
	}

	// So does decoding a file that holds more than the bound.
	var buf bytes.Buffer
	if err := o.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := record.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Snapshot().Total.Reasons; len(got) != record.MaxReasons+1 {
		t.Errorf("decoded %d reasons; want %d", len(got), record.MaxReasons+1)
	}
}

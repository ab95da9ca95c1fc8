package threshold_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

func TestJSONUsesCanonicalText(t *testing.T) {
	t.Parallel()
	in := `{"http_req_duration{ phase:spike , endpoint:list }": "p( 95 ) < 300"}`
	var doc map[string]threshold.Expression
	if err := json.Unmarshal([]byte(in), &doc); err != nil {
		t.Fatal(err)
	}
	type pair struct {
		Selector threshold.Selector   `json:"selector"`
		Expr     threshold.Expression `json:"expr"`
	}
	for k, e := range doc {
		s := mustSelector(t, k)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as k6 writes its summary: p(95)<300, not p(95)\u003c300
		if err := enc.Encode(pair{s, e}); err != nil {
			t.Fatal(err)
		}
		out := bytes.TrimSpace(buf.Bytes())
		want := `{"selector":"http_req_duration{endpoint:list,phase:spike}","expr":"p(95)<300"}`
		if string(out) != want {
			t.Errorf("json encoding = %s; want %s", out, want)
		}
		var back pair
		if err := json.Unmarshal(out, &back); err != nil || !back.Selector.Equal(s) || back.Expr != e {
			t.Errorf("json round trip = %+v, %v", back, err)
		}
	}
	var e threshold.Expression
	if err := json.Unmarshal([]byte(`"p95<300"`), &e); err == nil || !strings.Contains(err.Error(), `did you mean "p(95)"`) {
		t.Errorf("Unmarshal(p95<300) error = %v", err)
	}
	if _, err := json.Marshal(threshold.Expression{}); err == nil {
		t.Error("Marshal(zero Expression) succeeded; want an error")
	}
}

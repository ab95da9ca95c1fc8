package threshold_test

import (
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

func BenchmarkParseSelector(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := threshold.ParseSelector("http_req_duration{phase:spike,endpoint:list}"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseExpression(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := threshold.ParseExpression("p(99.9)<=1000"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	th, err := threshold.Parse("http_req_duration{endpoint:list}", "p(95)<300")
	if err != nil {
		b.Fatal(err)
	}
	s := fakeStats{"p(95)": 212.4}
	b.ReportAllocs()
	for b.Loop() {
		if v := threshold.Evaluate(th, s); !v.Passed {
			b.Fatal(v)
		}
	}
}

package main

import "testing"

func TestRedactedHidesOnlyThePassword(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"redis://:0123abcd@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"mongodb://app:s3cret@10.0.0.1:27017/?replicaSet=rs0", "mongodb://app:xxxxx@10.0.0.1:27017/?replicaSet=rs0"},
		{"redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
		{"", ""},
	} {
		if got := redacted(tt.in); got != tt.want {
			t.Errorf("redacted(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

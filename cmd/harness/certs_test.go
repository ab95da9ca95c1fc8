package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// harness certs makes a certificate where there is none, keeps it on
// the next start, and refuses a pair that does not match (exit 1) and
// flags that name no host (exit 2).
func TestCerts(t *testing.T) {
	t.Parallel()
	harness, _ := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "tls")
	for _, want := range []string{"created", "kept"} {
		code, text := harnessRun(t, harness, "certs", "-dir", dir, "-hosts", "localhost,127.0.0.1,nginx")
		if code != 0 || !strings.Contains(text, dir+" "+want+": localhost, for localhost, nginx, 127.0.0.1") || !strings.Contains(text, "ca.pem") {
			t.Fatalf("harness certs exited %d; want 0 saying %s:\n%s", code, want, text)
		}
	}
	for _, f := range []string{"cert.pem", "key.pem", "ca.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}

	// A key that is not the certificate's: the directory holds no usable pair.
	other := filepath.Join(t.TempDir(), "other")
	if code, text := harnessRun(t, harness, "certs", "-dir", other); code != 0 {
		t.Fatalf("harness certs -dir %s exited %d:\n%s", other, code, text)
	}
	key, err := os.ReadFile(filepath.Join(other, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, text := harnessRun(t, harness, "certs", "-dir", dir); code != 1 || !strings.Contains(text, "are not a certificate and its key") {
		t.Errorf("harness certs with a mismatched key exited %d; want 1 naming the mismatch:\n%s", code, text)
	}
	if code, text := harnessRun(t, harness, "certs", "-dir", dir, "-hosts", " , "); code != 2 {
		t.Errorf("harness certs -hosts ' , ' exited %d; want 2:\n%s", code, text)
	}
}

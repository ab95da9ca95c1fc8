// Package browser runs headless Chromium for tests that look at a page the
// way people do: the HTML reports and the API's browser client.
package browser

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Find returns the Chromium to drive: $CHROMIUM, /usr/bin/chromium, then
// the usual names on PATH. Without one it skips t, or fails it when
// REQUIRE_BROWSER=1 (as CI sets), saying how to install one.
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const where = "no chromium at /usr/bin/chromium, on PATH or in $CHROMIUM"
	if os.Getenv("REQUIRE_BROWSER") == "1" {
		t.Fatal(where + ", and REQUIRE_BROWSER=1: apt-get install chromium")
	}
	t.Skip("skipped: " + where + "; apt-get install chromium, or set REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// FileURL is the file:// URL of a local page.
func FileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// Headless runs bin on target (a URL) with args after the common headless
// flags and returns its stdout. Each run gets its own profile directory, so
// runs never share a lock.
func Headless(t testing.TB, bin, target string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, target)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

package server_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/browser"
)

// browserPage is what a React client does on load, in plain JavaScript:
// register, create a task with the Bearer token, list with a RateLimit
// header read (CORS must expose it), then use the cookie alone.
const browserPage = `<!doctype html><html><body><pre id="out">pending</pre><script>
const api = %q;
const out = [];
async function main() {
  let r = await fetch(api + "/auth/register", {method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({name: "Browser", email: "browser-" + Date.now() + "@example.com", password: "secret123"})});
  out.push("register " + r.status);
  const {token} = await r.json();
  r = await fetch(api + "/tasks", {method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
    body: JSON.stringify({title: "from the browser"})});
  out.push("create " + r.status);
  r = await fetch(api + "/tasks", {headers: {"Authorization": "Bearer " + token}});
  const list = await r.json();
  out.push("list " + r.status + " count=" + list.count + " ratelimit=" + r.headers.get("RateLimit-Remaining"));
  r = await fetch(api + "/auth/profile", {credentials: "include"});
  out.push("cookie-profile " + r.status);
}
main().catch(e => out.push("error " + e.name)).finally(() => {
  document.getElementById("out").textContent = "done\n" + out.join("\n");
});
</script></body></html>`

// pageServer serves one HTML page on a loopback port. Its origin is
// http://localhost:PORT, the way a React dev server is reached, and is
// known before the page is (the API must list it in FRONTEND_URL first).
type pageServer struct {
	origin string
	page   atomic.Value // string
}

func newPageServer(t *testing.T) *pageServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &pageServer{origin: fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)}
	ps.page.Store("")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, ps.page.Load())
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ps
}

// runPage loads url in headless Chromium and returns the page's text once
// its script is done.
func runPage(t *testing.T, bin, url string) string {
	t.Helper()
	return string(browser.Headless(t, bin, url,
		"--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--virtual-time-budget=15000", "--dump-dom"))
}

func TestReactStyleClientInABrowser(t *testing.T) {
	bin := browser.Find(t)
	allowed, foreign := newPageServer(t), newPageServer(t)
	in := newEnv(t).start(t, "FRONTEND_URL="+allowed.origin)
	page := fmt.Sprintf(browserPage, strings.Replace(in.base, "127.0.0.1", "localhost", 1)+"/api")
	allowed.page.Store(page)
	foreign.page.Store(page)

	dom := runPage(t, bin, allowed.origin+"/")
	for _, want := range []string{"done", "register 201", "create 201", "list 200 count=1 ratelimit=", "cookie-profile 200"} {
		if !strings.Contains(dom, want) {
			t.Errorf("page from the allowed origin lacks %q:\n%s", want, dom)
		}
	}
	if strings.Contains(dom, "ratelimit=null") {
		t.Errorf("RateLimit-Remaining is not exposed to the browser:\n%s", dom)
	}

	// The same page from an origin the API does not list is stopped by
	// the browser itself.
	dom = runPage(t, bin, foreign.origin+"/")
	if !strings.Contains(dom, "error TypeError") || strings.Contains(dom, "register 201") {
		t.Errorf("page from a foreign origin was not blocked by CORS:\n%s", dom)
	}
}

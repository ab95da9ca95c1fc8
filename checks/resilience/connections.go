package resilience

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Bounds of connection-flood, variables so that the package's tests can
// scale them down.
var (
	// MaxIdleConns is how many idle connections the flood opens at most:
	// far fewer than took the old API down (about 20,000), enough to
	// exhaust a default per-process limit of 1024 descriptors.
	MaxIdleConns = 2000
	// MaxSlowConns is how many connections send a request a byte at a
	// time (slowloris).
	MaxSlowConns = 50
	// floodProbes is how many health probes run while the flood holds.
	floodProbes = 20
	// floodBound is the p95 latency the health probes must keep.
	floodBound = time.Second
	// floodOpenFor bounds opening the connections. With the probes
	// (floodProbes × 1.5 × floodBound at worst) and floodRecovery, the
	// check stays within a runner's 60 s per check.
	floodOpenFor = 15 * time.Second
	// floodRecovery bounds how long the API may take to answer again once
	// the connections are closed.
	floodRecovery = 5 * time.Second
	// slowEvery spaces the bytes of a slow connection.
	slowEvery = 500 * time.Millisecond
)

// fdReserve is how many descriptors the flood leaves to the rest of the
// process (the probes, other checks' connections, log files).
const fdReserve = 256

var connectionFlood = check.Disruptive(check.Func{
	M: check.Meta{
		ID: IDConnectionFlood, Title: "Thousands of idle and slow connections do not stop the API answering", Category: check.Resilience, Severity: check.High,
		Remediation: "Bound what connections may hold: a read-header timeout (slowloris), an idle timeout, a maximum number of connections with the excess refused or closed, and a file-descriptor limit well above it; never exit when accept fails (back off and retry).",
		References:  []string{"OWASP API4:2023", "ASVS 5.0 V13.1.2", "CWE-400", "CWE-770", "RFC 9112 §9.6"},
	},
	F: runConnectionFlood,
})

func runConnectionFlood(ctx context.Context, t *check.Target) check.Result {
	e, err := endpointOf(t.BaseURL, t.RootCAs)
	if err != nil {
		return check.Errorf(err.Error())
	}
	idle, slow := MaxIdleConns, MaxSlowConns
	var notes []string
	limit, err := openFileLimit()
	switch {
	case err != nil:
		notes = append(notes, "the open-file limit is unknown ("+err.Error()+")")
	case uint64(idle+slow+fdReserve) > limit:
		avail := int(limit) - fdReserve
		if avail < 2*slow {
			return check.Errorf(fmt.Sprintf("this process may open %d files: too few for a flood (raise ulimit -n)", limit))
		}
		idle = avail - slow
		notes = append(notes, fmt.Sprintf("idle connections capped at %d by this process's open-file limit (%d)", idle, limit))
	}

	health := probe.Request{Method: http.MethodGet, Path: "/api/health"}
	// A client of its own: fresh connections, not one of the flood's, and
	// a timeout above the bound so that a slow answer is measured (and
	// counted as over it).
	// Each probe on a fresh connection, as a new user arrives: a server
	// that serves the connections it has but accepts no more has stopped
	// answering all the same.
	client := probeClient(t, floodBound*3/2)
	client.Transport.(*http.Transport).DisableKeepAlives = true
	pt := *t
	pt.Client = client
	if x := probe.Send(ctx, &pt, health); x.Status != http.StatusOK {
		return probe.ErrorResult("GET /api/health before the flood did not answer 200", x.Problem(), &x, answerHeaders...)
	}

	floodCtx, stopFlood := context.WithCancel(ctx)
	var conns []net.Conn
	var mu sync.Mutex
	var refused atomic.Int64
	var firstRefusal atomic.Value
	openCtx, cancelOpen := context.WithTimeout(floodCtx, floodOpenFor)
	var wg sync.WaitGroup
	jobs := make(chan bool)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for isSlow := range jobs {
				c, err := e.dial(openCtx)
				if err != nil {
					refused.Add(1)
					firstRefusal.CompareAndSwap(nil, err.Error())
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				if isSlow {
					go slowloris(floodCtx, c, e.host)
				}
			}
		}()
	}
	opening := time.Now()
feed:
	for i := range idle + slow {
		select {
		case jobs <- i < slow:
		case <-openCtx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	cancelOpen()
	opened := len(conns)
	openTook := time.Since(opening)
	closeAll := func() {
		stopFlood()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		conns = nil
	}
	defer closeAll()

	// The probes, while every connection is held.
	var took []time.Duration
	var failed []probe.Exchange
	for range floodProbes {
		if ctx.Err() != nil {
			break
		}
		x := probe.Send(ctx, &pt, health)
		d := x.Took
		if x.Status != http.StatusOK {
			failed = append(failed, x)
			d = 1<<63 - 1
		}
		took = append(took, d)
		time.Sleep(50 * time.Millisecond)
	}
	closeAll()
	if len(took) == 0 {
		return probe.ErrorResult("stopped before the probes", ctx.Err(), nil)
	}
	slices.Sort(took)
	p95 := took[(len(took)*95+99)/100-1]

	flood := fmt.Sprintf("%d connections held (%d slow, a byte every %s) of %d tried in %s; %d refused", opened, min(slow, opened), slowEvery, idle+slow, ms(openTook), refused.Load())
	if v := firstRefusal.Load(); v != nil {
		flood += " (first: " + v.(string) + ")"
	}
	for _, n := range notes {
		flood += "; " + n
	}
	expected := fmt.Sprintf("%d × GET /api/health during the flood: 200 with p95 ≤ %s; 200 within %s once it ends", floodProbes, floodBound, floodRecovery)
	var evs []check.Evidence
	floodEv := check.Evidence{Request: fmt.Sprintf("TCP connections to %s, held idle, and slow partial requests", e.addr), Response: flood, Expected: expected}
	pretty := "over " + ms(floodBound*3/2) + " or failed"
	p95s := pretty
	if p95 < 1<<63-1 {
		p95s = ms(p95)
	}
	floodEv.Observed = fmt.Sprintf("health p95 %s over %d probes, %d failed", p95s, len(took), len(failed))
	evs = append(evs, floodEv)
	for i, x := range failed {
		if i == 3 {
			break
		}
		evs = append(evs, x.Evidence("200 within "+floodBound.String(), x.Answer(), answerHeaders...))
	}

	// Afterwards the API must answer again, quickly.
	var after probe.Exchange
	recovered := time.Duration(-1)
	start := time.Now()
	for time.Since(start) < floodRecovery && ctx.Err() == nil {
		after = probe.Send(ctx, &pt, health)
		if after.Status == http.StatusOK {
			recovered = time.Since(start)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if recovered < 0 {
		evs = append(evs, after.Evidence("200 within "+floodRecovery.String()+" of closing the connections", after.Answer(), answerHeaders...))
		return check.Failf(fmt.Sprintf("the API did not answer within %s after the flood ended (it may have exited): %s", floodRecovery, after.Answer()), evs...)
	}
	if p95 > floodBound {
		return check.Failf(fmt.Sprintf("GET /api/health during the flood: p95 %s, over %s, %d of %d failed (%s)", p95s, floodBound, len(failed), len(took), flood), evs...)
	}
	return check.Passf(fmt.Sprintf("with %s, GET /api/health answered 200 with p95 %s (%d probes); 200 again %s after closing them", flood, ms(p95), len(took), ms(recovered)), evs...)
}

// slowloris sends a request line and then a header a byte at a time,
// never finishing, until ctx ends or the server closes the connection.
func slowloris(ctx context.Context, c net.Conn, host string) {
	head := "GET /api/health HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + probe.UserAgent + "\r\nX-Slow: "
	_ = c.SetWriteDeadline(time.Now().Add(rawWriteTimeout))
	if _, err := c.Write([]byte(head)); err != nil {
		return
	}
	tick := time.NewTicker(slowEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = c.SetWriteDeadline(time.Now().Add(rawWriteTimeout))
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

// probeClient is a client for t with its own connections and timeout,
// keeping the target client's TLS settings.
func probeClient(t *check.Target, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t.Client != nil {
		if own, ok := t.Client.Transport.(*http.Transport); ok {
			tr = own.Clone()
		}
	}
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

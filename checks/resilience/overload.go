package resilience

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Bounds of overload, variables so that the package's tests can scale
// them down.
var (
	// calibrateFor is how long capacity is measured, closed loop.
	calibrateFor = time.Second
	// calibrateWorkers is the closed loop's concurrency.
	calibrateWorkers = 8
	// burstFor is how long the burst lasts.
	burstFor = 3 * time.Second
	// burstMultiple is the burst's rate over the measured capacity.
	burstMultiple = 2.5
	// MaxBurstRequests bounds the requests of one burst, however fast
	// the target is.
	MaxBurstRequests = 15000
	// burstInFlight bounds the burst's concurrency: past it the client
	// drops requests instead of queueing them.
	burstInFlight = 256
	// recoverWithin is how soon after the burst the API must serve
	// normally again.
	recoverWithin = 5 * time.Second
	// overloadTimeout bounds one request of the burst: well past any
	// request deadline an API sets itself, so that an API that sheds late
	// (by waiting out its own deadline) is told from one that never
	// answers.
	overloadTimeout = 15 * time.Second
	// shedWithin is how soon an answer must come to count as shed "at
	// once": a common request deadline.
	shedWithin = 5 * time.Second
)

var overload = check.Disruptive(check.Func{
	M: check.Meta{
		ID: IDOverload, Title: "Beyond capacity the API sheds with 503 and Retry-After, and recovers at once", Category: check.Resilience, Severity: check.High,
		Remediation: "Bound concurrent work (an in-flight limit sized to the store pool, short queue timeouts) and answer the excess 503 with Retry-After instead of failing it with 500; release what a shed request held at once, so that the API serves again as soon as the load drops.",
		References:  []string{"OWASP API4:2023", "RFC 9110 §15.6.4", "RFC 9110 §10.2.3", "ASVS 5.0 V16.5.2", "CWE-400", "Google SRE book: Handling Overload"},
	},
	F: runOverload,
})

// loadRoute is what the burst asks for.
type loadRoute struct {
	req  probe.Request
	what string
}

func runOverload(ctx context.Context, t *check.Target) check.Result {
	route := loadRoute{req: probe.Request{Method: http.MethodGet, Path: "/api/health"}, what: "GET /api/health (no user could be registered)"}
	var notes []string
	u, res := ownUser(ctx, t)
	if res == nil {
		// An authenticated read that reaches the store: the cheapest
		// request that shows the store's pool under load.
		route = loadRoute{req: probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)}, what: "GET /api/tasks?limit=1 as the check's own user"}
	} else {
		notes = append(notes, res.Message)
	}
	client := probeClient(t, overloadTimeout)
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = burstInFlight
	lt := *t
	lt.Client = client

	first := probe.Send(ctx, &lt, route.req)
	if first.Status/100 != 2 {
		return probe.ErrorResult("the route to load did not answer 2xx before the burst", first.Problem(), &first, "RateLimit-Remaining", "Retry-After")
	}
	// The API's own rate limit would answer most of the burst 429, and a
	// 429 says nothing about overload: say so rather than spend it.
	if rem, err := strconv.Atoi(first.Header.Get("RateLimit-Remaining")); err == nil && rem < MaxBurstRequests {
		return check.Errorf(fmt.Sprintf("the API's rate limit leaves %d requests for this user, fewer than a burst may send (%d): raise RATE_LIMIT_API for this check (a 429 is no evidence of overload)", rem, MaxBurstRequests),
			first.Evidence("a budget above the burst", "RateLimit-Remaining: "+strconv.Itoa(rem), "RateLimit-Limit", "RateLimit-Remaining"))
	}

	var tally loadTally
	capacity := calibrate(ctx, &lt, route.req, &tally)
	if capacity <= 0 {
		return tally.errorResult("no request succeeded while measuring capacity")
	}
	rate := min(burstMultiple*capacity, float64(MaxBurstRequests)/burstFor.Seconds())
	calib := tally.snapshot()
	burst(ctx, &lt, route.req, rate, &tally)
	burstEnd := time.Now()

	// Recovery: the same route answers 2xx again.
	var last probe.Exchange
	recovered := time.Duration(-1)
	for time.Since(burstEnd) < recoverWithin && ctx.Err() == nil {
		last = probe.Send(ctx, &lt, route.req)
		if last.Status/100 == 2 {
			recovered = time.Since(burstEnd)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := tally.snapshot()
	load := fmt.Sprintf("%s: capacity %.0f req/s (closed loop, %d workers, %s), then %.0f req/s for %s (at most %d in flight)",
		route.what, capacity, calibrateWorkers, calibrateFor, rate, burstFor, burstInFlight)
	observed := fmt.Sprintf("%s; calibration %s", s.counts(), calib.counts())
	if recovered >= 0 {
		observed += "; 2xx again " + ms(recovered) + " after the burst"
	}
	for _, n := range notes {
		observed += "; " + n
	}
	expected := fmt.Sprintf("only 2xx and 503 with Retry-After (429 counted apart); 2xx again within %s of the burst's end", recoverWithin)
	evs := []check.Evidence{{Request: load, Response: s.counts(), Expected: expected, Observed: observed}}
	if s.offending != nil {
		evs = append(evs, s.offending.Evidence("2xx, or 503 with Retry-After", "the first offending answer: "+probe.StatusLine(s.offending.Status), answerHeaders...))
	}
	answered := s.total - s.noAnswer
	switch {
	case s.serverErrors > 0:
		return check.Failf(fmt.Sprintf("%d answers were 5xx other than 503 under %.1f× capacity (%s): the API fails requests instead of shedding them", s.serverErrors, burstMultiple, s.counts()), evs...)
	case s.bare503 > 0:
		return check.Failf(fmt.Sprintf("%d of %d 503s carried no Retry-After: clients cannot tell when to come back (%s)", s.bare503, s.byStatus[503], s.counts()), evs...)
	case s.noAnswer*20 > s.total:
		return check.Failf(fmt.Sprintf("%d of %d requests got no answer within %s: the API neither served nor shed them (%s)", s.noAnswer, s.total, overloadTimeout, s.counts()), evs...)
	case recovered < 0:
		evs = append(evs, last.Evidence("2xx within "+recoverWithin.String()+" of the burst's end", last.Answer(), answerHeaders...))
		return check.Failf(fmt.Sprintf("%s still did not answer 2xx %s after the burst ended: the API does not recover by itself", route.req.Method+" "+route.req.Path, recoverWithin), evs...)
	case s.late*20 > s.total:
		return check.Warnf(fmt.Sprintf("%d of %d answers took longer than %s: the API sheds, but by waiting out deadlines rather than refusing at once (%s)", s.late, s.total, shedWithin, s.counts()), evs...)
	case s.byStatus[429]*2 > answered:
		return check.Errorf(fmt.Sprintf("%d of %d answers were 429: the rate limit, not capacity, decided the burst; raise RATE_LIMIT_API for this check", s.byStatus[429], answered), evs...)
	}
	return check.Passf(fmt.Sprintf("%.1f× capacity for %s: %s; 2xx again %s after", burstMultiple, burstFor, s.counts(), ms(recovered)), evs...)
}

// loadTally counts the answers of calibration and burst.
type loadTally struct {
	mu sync.Mutex
	loadSnapshot
}

// loadSnapshot is a copy of the counts.
type loadSnapshot struct {
	total, noAnswer, dropped int
	late                     int // answered, but after shedWithin
	serverErrors, bare503    int
	byStatus                 map[int]int
	offending                *probe.Exchange
	firstNoAnswer            error
}

func (tl *loadTally) add(x probe.Exchange) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.byStatus == nil {
		tl.byStatus = map[int]int{}
	}
	tl.total++
	if x.Status == 0 {
		tl.noAnswer++
		if tl.firstNoAnswer == nil {
			tl.firstNoAnswer = x.Err
		}
		return
	}
	tl.byStatus[x.Status]++
	if x.Took > shedWithin {
		tl.late++
	}
	bad := false
	switch {
	case x.Status == http.StatusServiceUnavailable && !retryAfter(x.Header):
		tl.bare503++
		bad = true
	case x.Status >= 500 && x.Status != http.StatusServiceUnavailable:
		tl.serverErrors++
		bad = true
	}
	if bad && tl.offending == nil {
		x.Body = x.Body[:min(len(x.Body), probe.MaxExcerpt)]
		tl.offending = &x
	}
}

func (tl *loadTally) drop() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.dropped++
}

func (tl *loadTally) snapshot() loadSnapshot {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.loadSnapshot
	s.byStatus = map[int]int{}
	for k, v := range tl.byStatus {
		s.byStatus[k] = v
	}
	return s
}

func (s loadSnapshot) counts() string {
	out := fmt.Sprintf("%d sent: %s", s.total, countsString(s.byStatus))
	if s.noAnswer > 0 {
		out += fmt.Sprintf(", no answer × %d (first: %s)", s.noAnswer, probe.ErrString(s.firstNoAnswer))
	}
	if s.late > 0 {
		out += fmt.Sprintf(", %d answered after %s", s.late, shedWithin)
	}
	if s.dropped > 0 {
		out += fmt.Sprintf("; %d not sent (the client's in-flight bound was reached)", s.dropped)
	}
	return out
}

func (tl *loadTally) errorResult(msg string) check.Result {
	s := tl.snapshot()
	return check.Errorf(msg + ": " + s.counts())
}

// calibrate runs a closed loop for calibrateFor and returns the 2xx
// answers per second.
func calibrate(ctx context.Context, t *check.Target, r probe.Request, tl *loadTally) float64 {
	ctx, cancel := context.WithTimeout(ctx, calibrateFor)
	defer cancel()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range calibrateWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				x := probe.Send(ctx, t, r)
				if ctx.Err() != nil && x.Status == 0 {
					return // cut by the end of calibration, not by the API
				}
				tl.add(x)
				if x.Status/100 == 2 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// burst sends r at rate for burstFor, open loop: requests start on a
// schedule whatever the answers, at most burstInFlight at once, and at
// most MaxBurstRequests in all; those that would exceed the in-flight
// bound are dropped and counted.
func burst(ctx context.Context, t *check.Target, r probe.Request, rate float64, tl *loadTally) {
	const tick = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, burstFor+overloadTimeout)
	defer cancel()
	slots := make(chan struct{}, burstInFlight)
	var wg sync.WaitGroup
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	sent := 0
	for time.Since(start) < burstFor && sent < MaxBurstRequests && ctx.Err() == nil {
		due := min(int(rate*time.Since(start).Seconds())+1, MaxBurstRequests)
		for ; sent < due; sent++ {
			select {
			case slots <- struct{}{}:
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots }()
					tl.add(probe.Send(ctx, t, r))
				}()
			default:
				tl.drop()
			}
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
}

// Package resilience checks how the task API behaves at its edges, where
// production fails and a functional suite does not look: many idle and
// slow connections, a burst beyond its capacity, racing registrations, a
// store that stops or fails over, and HTTP that is malformed on purpose
// (a body too large to accept, headers too large, Content-Length against
// Transfer-Encoding, invalid UTF-8, unknown methods), and a token after
// logout.
//
// # Traffic
//
// Every check talks to the target it is given and nothing else (with a
// managed environment, its API instances too: body-drain and the store
// checks reach each instance directly, since a proxy in front may hide
// how the API itself closes or counts), and every
// loop is bounded in count and in time: at most MaxIdleConns idle and
// MaxSlowConns slow connections, a burst of at most MaxBurstRequests
// requests over burstFor, ten registrations per race, a handful of raw
// requests. Raw requests (body-drain, request-smuggling) go over a TCP
// (or TLS) connection of their own, because Go's client would refuse to
// send them or would hide what came back.
//
// # Order
//
// resilience.connection-flood and resilience.overload load the whole
// API, resilience.mongo-fail-fast and resilience.redis-failover stop
// stores of a managed environment (Target.Env): all four are
// check.Disruptive, so that a runner runs them alone, after the others. The
// store checks always start again what they stopped, and say
// NotApplicable, with the reason, without an environment that has the
// components they need.
//
// # Data and budgets
//
// resilience.concurrent-signup sends twenty registrations (ten distinct
// emails, ten racing for one) and creates eleven users when the API is
// right; resilience.overload, logout-revokes, mongo-fail-fast and
// redis-failover register one user each, of their own, because they spend
// its budget, end its session or need it across a fault. All have
// fixture.Email addresses that carry the run's prefix:
// the API cannot delete users, so fixture.Cleanup removes them after the
// run, as for every other check. The auth budget of a deployment with the
// API's defaults (5 per 15 minutes per client) does not cover that: a
// refused registration (429) is reported as an error naming
// RATE_LIMIT_AUTH, never as a verdict. resilience.overload needs an API
// budget larger than its burst; with less it says so (RATE_LIMIT_API)
// instead of measuring the rate limit.
//
// # Severities
//
// High: what takes the API down or lets one request hide another
// (connection flood, overload, request smuggling) and a store outage that
// makes requests hang (mongo-fail-fast). Medium: a failover that loses the
// shared rate limit or hides from readiness, racing registrations,
// resets instead of 413/431, invalid UTF-8 answered 5xx, tokens that
// survive logout. Low: error bodies that are not the contract's JSON.
package resilience

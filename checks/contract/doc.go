// Package contract is a black-box smoke test of the task API's HTTP
// contract (docs/API.md in this repository). `make run` and `harness smoke --target URL` call
// [Run] against any deployment: it talks to the API only over HTTP and
// imports nothing of the service.
//
// # What it checks
//
// Run walks the contract end to end in a fixed order of small steps, each
// one [Result] in the [Report]: the liveness and readiness endpoints;
// register (token, user, no password in the answer, an HttpOnly
// SameSite=Strict token cookie), a duplicate register with the email in
// upper case, a wrong and a right login; the profile with no token, a bad
// token and a good one; task validation and creation (status, owner,
// millisecond UTC timestamps); listing newest first, plain-text
// case-insensitive search that is never a regular expression, pagination;
// reading a task and a malformed id; the security headers of a task answer;
// isolation (a second user can neither read, change nor delete the first
// user's task, and the task is unchanged afterwards); an update that tries
// to hand the task to another user; delete; logout. A step that needs an
// earlier one which did not pass is skipped, with a Detail naming it.
//
// # What it leaves behind
//
// Each run registers two users whose emails are
// "<prefix>-<8 random hex>@example.com" (prefix "smoke" unless
// [EmailPrefix] says otherwise), so they are easy to recognise and purge:
// the API has no way to delete a user. Every task the run created is
// deleted by a cleanup that always runs, even after failures or a
// cancelled context (bounded by its own short deadline; its errors are
// ignored).
//
// # Rate limits
//
// A run makes at most 5 requests to /api/auth/register and /api/auth/login
// (register A, register A again, a wrong login, a right login, register B;
// fewer when steps are skipped), which fits the API's default auth limit of 5 per 15 minutes per client.
// A second run from the same client within the window is therefore refused:
// any 429 fails the step that got it, with a Detail saying to retry after
// Retry-After seconds or to raise RATE_LIMIT_AUTH / RATE_LIMIT_API, and
// skips every later step instead of failing it. Nothing is ever retried.
//
// # Bounds
//
// Every request carries the step's context, which has a deadline, and the
// default client has a 10 s timeout; answers are read up to 1 MiB. Details
// quote at most 200 bytes of a body, with tokens and passwords redacted.
//
// # Concurrency
//
// Run is safe to call from several goroutines at once: each call has its
// own state, users and tasks, and shares only the *http.Client, which must
// itself be safe for concurrent use (an [http.Client] is). The steps of one
// run execute sequentially. Concurrent runs against one target share that
// target's auth budget, so with the default limit only one of them fits
// in a 15-minute window. A [Report] is a plain value owned by the caller.
package contract

// Package ledger keeps account of the task writes a load test makes, and
// once the load has stopped reads every task they touched back through
// the API, to say whether anything the API acknowledged was lost.
//
// While the load runs, the ledger hears of every request (journey.Observe)
// and keeps, for each task a write touched, the state the API last
// acknowledged: present with a given title, description and status (201
// on create, 200 on update), or deleted (200 on delete). A write whose
// answer never came (no answer, a timeout, a 5xx) is kept too, as what
// may or may not have happened. Verify then reads the tasks back, each
// user's as that user, and finds:
//
//   - lost: acknowledged, but absent or not in its acknowledged state;
//   - resurrected: deleted, acknowledged, yet present;
//   - duplicated: a task that no acknowledged create made but that has
//     the content of one (a create applied twice);
//   - ambiguous: a write the client saw fail that happened all the same.
//
// Memory is bounded: a tracked task costs about BytesPerObject, and
// writes beyond the limit (WithLimit) are counted, not tracked.
package ledger

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/taskready/taskready/loadtest/journey"
)

// BytesPerObject bounds what one tracked task costs the ledger: 85 to 135
// bytes measured (TestBytesPerObject), by how full its map is between
// two doublings, so 85 to 135 MB per million tasks.
const BytesPerObject = 140

// DefaultLimit is the number of tasks tracked unless WithLimit says
// otherwise: under 300 MB.
const DefaultLimit = 2 << 20

// tasksPath is where the contract keeps tasks.
const tasksPath = "/api/tasks"

// state is what a task should be after a write.
type state uint8

const (
	unknown state = iota // no acknowledged write says (an uncertain update of a task not seen before)
	present
	deleted
)

// The fields of a task a write sets, as bits of a mask: a digest covers
// the fields its mask names.
const (
	fieldTitle uint8 = 1 << iota
	fieldDescription
	fieldStatus
	allFields = fieldTitle | fieldDescription | fieldStatus
)

// id is a task's ObjectId.
type id [12]byte

func (i id) String() string { return hex.EncodeToString(i[:]) }

// entry is one task's account: 40 bytes, and its key 12.
type entry struct {
	digest   uint64 // the acknowledged content (state present)
	created  uint64 // the content its acknowledged create gave it, 0 if none seen
	maybe    uint64 // the content an uncertain write may have left (mask maybeMask)
	lastEnd  int64  // when the last acknowledged write's answer came, Unix ns
	owner    int32  // its account
	state    state  // acknowledged
	maybeIs  state  // what the uncertain write after it would have made it, unknown if none
	maybeFor uint8  // the fields maybe covers
	overlap  bool   // two acknowledged writes were in flight at once: their order is unknown
}

// create is a create the client saw fail: it may have happened.
type create struct {
	owner  int32
	mask   uint8
	digest uint64
}

// Ledger is the account of a run's writes. Observe is safe for
// concurrent use; Verify runs once the load has stopped.
type Ledger struct {
	limit int

	mu       sync.Mutex
	tasks    map[id]entry
	creates  []create   // uncertain creates
	accounts []*account // by owner
	seeded   map[int]int32
	tokens   map[string]int32

	acknowledged, uncertain, untracked atomic.Int64
}

// account is how the read-back logs in as the owner of tasks: the token
// the load last used, or the user's credentials when it no longer works.
// A seeded user is one account whatever tokens its logins got; a user
// the journeys made themselves is known by its token alone.
type account struct {
	email, password, token string
}

// Option sets an optional setting of New.
type Option func(*Ledger)

// WithLimit bounds the tasks tracked; writes to tasks beyond it are
// counted as untracked.
func WithLimit(n int) Option { return func(l *Ledger) { l.limit = n } }

// New returns an empty ledger.
func New(opts ...Option) *Ledger {
	l := &Ledger{limit: DefaultLimit, tasks: map[id]entry{}, seeded: map[int]int32{}, tokens: map[string]int32{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// op is a task write, as the contract routes it.
type op uint8

const (
	opNone op = iota
	opCreate
	opUpdate
	opDelete
)

// classify says which write method and path make, and on which task.
func classify(method, path string) (op, id) {
	var none id
	path, _, _ = strings.Cut(path, "?")
	path = strings.TrimSuffix(path, "/")
	if path == tasksPath {
		if method == "POST" {
			return opCreate, none
		}
		return opNone, none
	}
	rest, ok := strings.CutPrefix(path, tasksPath+"/")
	if !ok {
		return opNone, none
	}
	var i id
	if len(rest) != 2*len(i) {
		return opNone, none
	}
	if _, err := hex.Decode(i[:], []byte(rest)); err != nil {
		return opNone, none
	}
	switch method {
	case "PUT", "PATCH":
		return opUpdate, i
	case "DELETE":
		return opDelete, i
	}
	return opNone, none
}

// outcome is what an answer says of a write.
type outcome uint8

const (
	refused      outcome = iota // a 4xx (or a 3xx): the API did not do it
	acknowledged                // 2xx
	uncertain                   // no answer, or a 5xx: it may have happened
)

func outcomeOf(status int) outcome {
	switch {
	case status == 0 || status >= 500:
		return uncertain
	case status >= 200 && status <= 299:
		return acknowledged
	}
	return refused
}

// fields are a task's fields a write sets or an answer shows; nil means
// absent.
type fields struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
}

// answer is the contract's answer to a create or an update.
type answer struct {
	Task struct {
		ID string `json:"_id"`
		fields
	} `json:"task"`
}

// digest hashes the fields mask names; an absent field hashes as empty.
func (f fields) digest(mask uint8) uint64 {
	h := fnv.New64a()
	for i, p := range []*string{f.Title, f.Description, f.Status} {
		if mask&(1<<i) == 0 {
			continue
		}
		h.Write([]byte{byte(i), 0})
		if p != nil {
			h.Write([]byte(*p))
		}
	}
	return h.Sum64() | 1 // never 0: 0 means "none"
}

// mask names the fields f sets.
func (f fields) mask() uint8 {
	var m uint8
	if f.Title != nil {
		m |= fieldTitle
	}
	if f.Description != nil {
		m |= fieldDescription
	}
	if f.Status != nil {
		m |= fieldStatus
	}
	return m
}

// Observe records x if it is a task write: it is a journey.Observer.
func (l *Ledger) Observe(x *journey.Exchange) {
	kind, tid := classify(x.Method, x.Path)
	if kind == opNone {
		return
	}
	out := outcomeOf(x.Status)
	if out == refused {
		return
	}
	if out == acknowledged {
		l.acknowledged.Add(1)
	} else {
		l.uncertain.Add(1)
	}
	var body fields
	var ans answer
	if kind != opDelete {
		_ = json.Unmarshal(x.Body, &body) // a body the API refused would have had a 400
		if out == acknowledged {
			if err := json.Unmarshal(x.Answer, &ans); err != nil || ans.Task.ID == "" {
				// Acknowledged without saying what was written: nothing
				// to check it against.
				l.untracked.Add(1)
				return
			}
		}
	}
	if kind == opCreate && out == acknowledged {
		var err error
		if tid, err = parseID(ans.Task.ID); err != nil {
			l.untracked.Add(1)
			return
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if kind != opCreate || out == acknowledged {
		if e, ok := l.tasks[tid]; ok {
			l.owner(x) // keeps the account's token fresh
			l.tasks[tid] = update(e, kind, out, x, body, ans)
			return
		}
	}
	if l.full() {
		l.untracked.Add(1)
		return
	}
	owner, ok := l.owner(x)
	if !ok {
		l.untracked.Add(1) // nobody to read it back as
		return
	}
	if kind == opCreate && out == uncertain {
		l.creates = append(l.creates, create{owner: owner, mask: body.mask(), digest: body.digest(body.mask())})
		return
	}
	l.tasks[tid] = update(entry{owner: owner}, kind, out, x, body, ans)
}

// update is e after a write of kind with outcome out: x and what its
// request (body) and answer (ans) said.
func update(e entry, kind op, out outcome, x *journey.Exchange, body fields, ans answer) entry {
	if out == uncertain {
		e.maybeIs, e.maybeFor = deleted, 0
		if kind == opUpdate {
			e.maybeIs, e.maybeFor, e.maybe = present, body.mask(), body.digest(body.mask())
		}
		return e
	}
	// An acknowledged write sent before the last one's answer came raced
	// it: which the store applied last is unknown.
	if e.lastEnd != 0 && x.Start.UnixNano() < e.lastEnd {
		e.overlap = true
	}
	e.lastEnd = max(e.lastEnd, x.End.UnixNano())
	e.maybeIs = unknown // what was uncertain before is settled by this
	if kind == opDelete {
		e.state = deleted
		return e
	}
	e.state, e.digest = present, ans.Task.digest(allFields)
	if kind == opCreate {
		e.created = e.digest
	}
	return e
}

// full reports whether the ledger tracks all it may: a new task, an
// uncertain create or an account would go past the limit.
func (l *Ledger) full() bool {
	return len(l.tasks)+len(l.creates)+len(l.accounts) >= l.limit
}

// owner is the account x wrote as, made on first sight; false when x
// carried no token and came from no seeded user.
func (l *Ledger) owner(x *journey.Exchange) (int32, bool) {
	tok, _ := strings.CutPrefix(x.Authorization, "Bearer ")
	if x.User.Index > 0 {
		n, ok := l.seeded[x.User.Index]
		if !ok {
			n = l.add(&account{email: x.User.Email, password: x.User.Password})
			l.seeded[x.User.Index] = n
		}
		if tok != "" {
			l.accounts[n].token = tok // any of the user's tokens reads its tasks
		}
		return n, true
	}
	if tok == "" {
		return 0, false
	}
	n, ok := l.tokens[tok]
	if !ok {
		n = l.add(&account{token: tok})
		l.tokens[tok] = n
	}
	return n, true
}

func (l *Ledger) add(a *account) int32 {
	l.accounts = append(l.accounts, a)
	return int32(len(l.accounts) - 1)
}

func parseID(s string) (id, error) {
	var i id
	if len(s) != 2*len(i) {
		return i, hex.ErrLength
	}
	_, err := hex.Decode(i[:], []byte(s))
	return i, err
}

// Counts are the ledger's totals so far.
type Counts struct {
	Acknowledged, Uncertain, Untracked int64
	Objects                            int64 // tasks tracked, and uncertain creates
}

// Counts says what the ledger holds.
func (l *Ledger) Counts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts()
}

// counts is Counts with l.mu held.
func (l *Ledger) counts() Counts {
	return Counts{Acknowledged: l.acknowledged.Load(), Uncertain: l.uncertain.Load(), Untracked: l.untracked.Load(),
		Objects: int64(len(l.tasks) + len(l.creates))}
}

package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

var pageSizeCap = check.Func{
	M: check.Meta{
		ID: "limits.page-size-cap", Title: "A requested page size is capped", Category: check.Limits, Severity: check.High,
		Remediation: "Clamp ?limit= to the documented maximum (or refuse it with 400) and say the applied limit in the pagination object; never let a client ask for an unbounded page.",
		References:  []string{"OWASP API4:2023", "CWE-770"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return withSeededUser(ctx, t, func(u *fixture.User, maxPage int, seeded string) check.Result {
			const hugeLimit = "100000"
			expected := fmt.Sprintf("400, or at most %d tasks with pagination.limit <= %d", maxPage, maxPage)
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks?page=1&limit=" + hugeLimit, Header: probe.Bearer(u.Token)})
			r, verdict := judgeList(x, maxPage, expected, true)
			if verdict != nil {
				return *verdict
			}
			evs := []check.Evidence{x.Evidence(expected, r.observed(), "Content-Type")}
			// The other edges of RATE-05: a negative limit and an absurd
			// page must be refused or capped, never a 5xx.
			for _, q := range []string{"?limit=-1", "?page=1000000000&limit=" + hugeLimit} {
				ex := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks" + q, Header: probe.Bearer(u.Token)})
				er, v := judgeList(ex, maxPage, expected, false)
				if v != nil {
					return *v
				}
				evs = append(evs, ex.Evidence(expected, er.observed(), "Content-Type"))
			}
			if x.Status >= 400 {
				return check.Passf("a page of "+hugeLimit+" is refused with "+probe.StatusLine(x.Status), evs...)
			}
			msg := fmt.Sprintf("?limit=%s returns %d tasks and pagination.limit %d (cap %d)", hugeLimit, r.n, r.pageLimit, maxPage)
			if seeded == "" {
				evs[0].Note = "the user holds fewer tasks than the cap: judged by pagination.limit"
			} else {
				msg += fmt.Sprintf(" of %d held", r.total)
				evs[0].Note = seeded
			}
			return check.Passf(msg, evs...)
		})
	},
}

var unpagedListCap = check.Func{
	M: check.Meta{
		ID: "limits.unpaged-list-cap", Title: "A list without page or limit is still capped", Category: check.Limits, Severity: check.High,
		Remediation: "Apply the page cap to every list, also when the client gives no page or limit (the original contract's shape), so that a large account cannot be dumped in one request.",
		References:  []string{"OWASP API4:2023", "CWE-770"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return withSeededUser(ctx, t, func(u *fixture.User, maxPage int, seeded string) check.Result {
			if seeded == "" {
				return check.NotApplicablef(fmt.Sprintf("could not give a user more than %d tasks: needs a MongoDB connection (Target.Mongo) or an API budget of at least %d requests for this user", maxPage, 2*(maxPage+1)+4))
			}
			expected := fmt.Sprintf("at most %d of the %d tasks", maxPage, maxPage+1)
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks", Header: probe.Bearer(u.Token)})
			r, verdict := judgeList(x, maxPage, expected, false)
			if verdict != nil {
				return *verdict
			}
			ev := x.Evidence(expected, r.observed(), "Content-Type")
			ev.Note = seeded
			if x.Status >= 400 {
				return check.Errorf("the plain task list answered "+probe.StatusLine(x.Status), ev)
			}
			return check.Passf(fmt.Sprintf("a user with %d tasks gets %d without page or limit (cap %d)", maxPage+1, r.n, maxPage), ev)
		})
	},
}

// list is what judgeList read from a task list.
type list struct {
	status       int
	n            int // tasks returned
	hasPaging    bool
	pageLimit    int
	total        int
	undecodeable bool
}

func (l list) observed() string {
	if l.status >= 400 {
		return probe.StatusLine(l.status)
	}
	s := fmt.Sprintf("%s with %d tasks", probe.StatusLine(l.status), l.n)
	if l.hasPaging {
		s += fmt.Sprintf(", pagination.limit %d, pagination.total %d", l.pageLimit, l.total)
	}
	return s
}

// judgeList reads a task list and returns a verdict when it breaks the
// maxPage (or cannot be read); nil means the caller goes on. A 4xx is an
// acceptable refusal; wantPaging requires the pagination object.
func judgeList(x probe.Exchange, maxPage int, expected string, wantPaging bool) (list, *check.Result) {
	l := list{status: x.Status}
	if x.Status == 0 {
		r := check.Errorf(x.Req.Method + " " + x.Req.Path + ": " + probe.ErrString(x.Err))
		return l, &r
	}
	if x.Status >= 500 {
		r := check.Failf(x.Req.Path+" answered "+probe.StatusLine(x.Status)+": the edge is not handled", x.Evidence(expected, probe.StatusLine(x.Status), "Content-Type"))
		return l, &r
	}
	if x.Status >= 400 && x.Status != http.StatusUnauthorized && x.Status != http.StatusTooManyRequests {
		return l, nil // refused: a bounded answer
	}
	if x.Status != http.StatusOK {
		r := check.Errorf(x.Req.Path+" answered "+probe.StatusLine(x.Status), x.Evidence(expected, probe.StatusLine(x.Status), "Retry-After"))
		return l, &r
	}
	var body struct {
		Tasks      []json.RawMessage `json:"tasks"`
		Pagination *struct {
			Limit int `json:"limit"`
			Total int `json:"total"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(x.Body, &body); err != nil {
		r := check.Errorf(x.Req.Path+": the list is not the contract's JSON: "+err.Error(), x.Evidence(expected, "undecodable body", "Content-Type"))
		return l, &r
	}
	l.n = len(body.Tasks)
	if body.Pagination != nil {
		l.hasPaging, l.pageLimit, l.total = true, body.Pagination.Limit, body.Pagination.Total
	}
	switch {
	case l.n > maxPage:
		r := check.Failf(fmt.Sprintf("%s returned %d tasks, above the cap of %d", x.Req.Path, l.n, maxPage), x.Evidence(expected, l.observed(), "Content-Type"))
		return l, &r
	case wantPaging && !l.hasPaging:
		r := check.Failf(x.Req.Path+" has no pagination object saying which limit applied", x.Evidence(expected, l.observed(), "Content-Type"))
		return l, &r
	case l.hasPaging && l.pageLimit > maxPage:
		r := check.Failf(fmt.Sprintf("%s says pagination.limit %d, above the cap of %d", x.Req.Path, l.pageLimit, maxPage), x.Evidence(expected, l.observed(), "Content-Type"))
		return l, &r
	}
	return l, nil
}

// withSeededUser gives the shared fixture user maxPage+1 tasks of this check's
// own, runs f, and removes them: straight into MongoDB when the target
// has a connection (the API's budget of 100 requests per 15 minutes could
// not create them), else through the API when its advertised budget
// allows creating and deleting them. seeded says how, or is empty when
// neither was possible.
func withSeededUser(ctx context.Context, t *check.Target, f func(u *fixture.User, maxPage int, seeded string) check.Result) check.Result {
	u, err := sharedUser(ctx, t)
	if err != nil {
		return check.Errorf("no fixture user: " + err.Error())
	}
	maxPage := t.Policy.WithDefaults().MaxPageSize
	n := maxPage + 1
	undo, seeded, err := seed(ctx, t, u, n)
	if err != nil {
		return check.Errorf("could not give the fixture user " + fmt.Sprint(n) + " tasks: " + err.Error())
	}
	defer undo()
	r := f(u, maxPage, seeded)
	for i := range r.Evidence {
		if r.Evidence[i].Note == "" {
			r.Evidence[i].Note = seeded
		}
	}
	return r
}

func seed(ctx context.Context, t *check.Target, u *fixture.User, n int) (undo func(), how string, err error) {
	nothing := func() {}
	if t.Mongo != nil {
		uid, err := bson.ObjectIDFromHex(u.ID)
		if err != nil {
			return nothing, "", fmt.Errorf("user id %q: %w", u.ID, err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		docs := make([]any, n)
		ids := make([]bson.ObjectID, n)
		for i := range docs {
			ids[i] = bson.NewObjectID()
			docs[i] = bson.D{
				{Key: "_id", Value: ids[i]}, {Key: "title", Value: fmt.Sprintf("readiness page cap %d", i+1)},
				{Key: "description", Value: ""}, {Key: "status", Value: "pending"}, {Key: "user", Value: uid},
				{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now},
			}
		}
		coll := t.Mongo.Database(t.DatabaseName()).Collection("tasks")
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			return nothing, "", fmt.Errorf("insert into %s.tasks: %w", t.DatabaseName(), err)
		}
		return func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		}, fmt.Sprintf("%d tasks inserted through MongoDB for this check, removed afterwards", n), nil
	}

	// Through the API only if creating and deleting them fits the budget
	// with room to spare for the check itself.
	x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)})
	if a := parseAdvertised(x.Header); x.Status != http.StatusOK || a.remaining < 2*n+4 {
		return nothing, "", nil
	}
	var ids []string
	undo = func() {
		ctx := context.WithoutCancel(ctx)
		for _, id := range ids {
			_, _, _ = fixture.Do(ctx, t, http.MethodDelete, "/api/tasks/"+id, u.Token, nil, nil)
		}
	}
	for i := range n {
		task, err := fixture.NewTask(ctx, t, u, fmt.Sprintf("readiness page cap %d", i+1))
		if err != nil {
			undo()
			return nothing, "", err
		}
		ids = append(ids, task.ID)
	}
	return undo, fmt.Sprintf("%d tasks created through the API for this check, deleted afterwards", n), nil
}

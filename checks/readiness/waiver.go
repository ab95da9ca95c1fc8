package readiness

import (
	"fmt"
	"sort"
	"time"
)

// ExpiryWarning is how long before its expiry a waiver is reported as
// expiring, so that its owner renews or retires it before a release is
// blocked by surprise.
const ExpiryWarning = 14 * 24 * time.Hour

// The states of a waiver that a report mentions.
const (
	// WaiverExpired is a waiver past its expiry: it no longer waives.
	WaiverExpired = "expired"
	// WaiverExpiring is a waiver that expires within ExpiryWarning.
	WaiverExpiring = "expiring"
)

// Waiver is a policy override whose expiry a report must mention: expired
// (it no longer waives, and the check counts as it found) or expiring
// soon.
type Waiver struct {
	ID      string `json:"id"`      // the check it waives
	Owner   string `json:"owner"`   // who answers for it
	Expires string `json:"expires"` // the day it stops waiving, YYYY-MM-DD
	Source  string `json:"source,omitempty"`
	// State is WaiverExpired or WaiverExpiring.
	State string `json:"state"`
	// Days is how many whole days are left (expiring), or have passed
	// since the expiry (expired).
	Days int `json:"days"`
	// Message says it in a line, for every report.
	Message string `json:"message"`
}

// ExpiresAt is the instant the waiver stops waiving: the start of its
// Expires day, in UTC; the zero time when it has no valid date.
func (o Override) ExpiresAt() time.Time {
	t, err := time.Parse(DateLayout, o.Expires)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Expired says whether the waiver no longer waives at instant at. An
// override without a date (one built in code, not read from a policy
// file) never expires.
func (o Override) Expired(at time.Time) bool {
	exp := o.ExpiresAt()
	return !exp.IsZero() && !at.Before(exp)
}

// waivers are the notices about p's overrides at instant at: the expired
// ones, then those expiring within ExpiryWarning, each in file order.
func waivers(p *Policy, at time.Time) []Waiver {
	if p == nil {
		return nil
	}
	var out []Waiver
	for _, o := range p.Overrides {
		exp := o.ExpiresAt()
		if exp.IsZero() {
			continue
		}
		w := Waiver{ID: o.ID, Owner: o.Owner, Expires: o.Expires, Source: o.Source}
		left := exp.Sub(at)
		switch {
		case o.Expired(at):
			w.State, w.Days = WaiverExpired, int(-left/(24*time.Hour))
			w.Message = fmt.Sprintf("waiver for %s expired on %s (%s): the check counts as it found", o.ID, o.Expires, o.Owner)
		case left <= ExpiryWarning:
			w.State, w.Days = WaiverExpiring, int(left/(24*time.Hour))
			w.Message = fmt.Sprintf("waiver for %s expires on %s (%s), %s: renew it or fix the check", o.ID, o.Expires, o.Owner, inDays(w.Days))
		default:
			continue
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].State == WaiverExpired && out[j].State != WaiverExpired })
	return out
}

func inDays(n int) string {
	switch n {
	case 0:
		return "in less than a day"
	case 1:
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", n)
}

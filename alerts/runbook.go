package alerts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrRunbook is returned by CheckRunbook when the runbook and the alerts
// disagree.
var ErrRunbook = errors.New("runbook")

// CheckRunbook reports, wrapped in ErrRunbook, the alerts of r that the
// runbook (Markdown) has no section for, and the sections named like an
// alert ("## TaskAPI…") that no alert links to: a runbook_url must lead
// somewhere, and a stale section misleads whoever reads it at 3am.
func (r *Rules) CheckRunbook(runbook []byte) error {
	sections := map[string]bool{}
	var stale []string
	alerts := map[string]bool{}
	for _, a := range r.Alerts() {
		alerts[Anchor(a)] = true
	}
	sc := bufio.NewScanner(bytes.NewReader(runbook))
	for sc.Scan() {
		title, ok := strings.CutPrefix(sc.Text(), "## ")
		if !ok {
			continue
		}
		a := slug(title)
		sections[a] = true
		if strings.HasPrefix(a, "taskapi") && !alerts[a] {
			stale = append(stale, strings.TrimSpace(title))
		}
	}
	var missing []string
	for _, a := range r.Alerts() {
		if !sections[Anchor(a)] {
			missing = append(missing, a)
		}
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("%w: no section for %s (a heading \"## NAME\" each)", ErrRunbook, strings.Join(missing, ", ")))
	}
	if len(stale) > 0 {
		errs = append(errs, fmt.Errorf("%w: sections for alerts the rules do not have: %s", ErrRunbook, strings.Join(stale, ", ")))
	}
	return errors.Join(errs...)
}

// slug is the anchor GitHub gives a heading: lower case, punctuation
// dropped, spaces as hyphens.
func slug(title string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(title)) {
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-' || c == '_':
			b.WriteRune(c)
		case c == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

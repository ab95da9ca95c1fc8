package k6

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// jsString quotes s as a JavaScript string literal. JSON strings are
// JavaScript strings, and encoding/json also escapes U+2028 and U+2029,
// which older JavaScript did not allow in literals; HTML characters are
// kept as they are so that the script reads as written.
func jsString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// jsLineTerminators are the characters that end a JavaScript line comment:
// a name or description holding one must not escape its comment.
var jsLineTerminators = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")

// wrapped returns s as line comments of at most about width columns,
// breaking its lines between words.
func wrapped(s string, width int) string {
	var b strings.Builder
	for _, line := range strings.Split(jsLineTerminators.Replace(s), "\n") {
		cur := "//"
		for _, w := range strings.Fields(line) {
			if len(cur) > 2 && len(cur)+1+len(w) > width {
				b.WriteString(cur + "\n")
				cur = "//"
			}
			cur += " " + w
		}
		b.WriteString(cur + "\n")
	}
	return b.String()
}

// inline returns s for use inside a one-line comment: line terminators
// become spaces.
func inline(s string) string {
	return strings.ReplaceAll(jsLineTerminators.Replace(s), "\n", " ")
}

// nonIdent matches what may not appear in a JavaScript identifier of ours.
var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

// identifiers hands out distinct JavaScript identifiers made from names
// (journey and scenario names are any YAML key).
type identifiers map[string]bool

func (ids identifiers) make(prefix, name string) string {
	base := prefix + nonIdent.ReplaceAllString(name, "_")
	id := base
	for n := 2; ids[id]; n++ {
		id = base + "_" + strconv.Itoa(n)
	}
	ids[id] = true
	return id
}

// jsDuration writes d as k6 reads durations, in its shortest Go form:
// "1m" rather than Go's "1m0s".
func jsDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return jsString(s)
}

// jsMillis writes d in milliseconds, as Date.now() counts.
func jsMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// jsSeconds writes d in seconds, as k6's sleep takes it.
func jsSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// gjsonSafe matches an extraction path that res.json(path) reads as the
// harness does: keys and indexes of letters, digits and "_" only, where
// GJSON gives no character a meaning of its own (*, ?, #, @, |, !, ...).
var gjsonSafe = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

package threshold

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMetricName is k6's limit on metric names.
const maxMetricName = 128

// Tag is one key:value condition of a sub-metric selector.
type Tag struct {
	Key   string
	Value string
}

// Selector names the metric a threshold applies to: a whole metric
// (http_req_duration) or, when Tags is not empty, the sub-metric of the
// samples that carry every one of the tags (http_req_duration{endpoint:list}).
type Selector struct {
	// Metric is the metric name.
	Metric string
	// Tags are sorted by Key, keys are unique, and it is nil when empty.
	Tags []Tag
}

// String returns the canonical form of s, which k6 accepts:
// http_req_duration{endpoint:list,phase:spike}.
func (s Selector) String() string {
	if len(s.Tags) == 0 {
		return s.Metric
	}
	var b strings.Builder
	b.WriteString(s.Metric)
	b.WriteByte('{')
	for i, t := range s.Tags {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteIfNeeded(t.Key))
		b.WriteByte(':')
		b.WriteString(quoteIfNeeded(t.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// quoteIfNeeded quotes a tag key or value that would not read back bare:
// one with whitespace at either end or with a quote character in it.
func quoteIfNeeded(v string) string {
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	if !unicode.IsSpace(first) && !unicode.IsSpace(last) && !strings.ContainsAny(v, `"'`) {
		return v
	}
	if strings.ContainsRune(v, '"') {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

// Equal reports whether s and o select the same samples.
func (s Selector) Equal(o Selector) bool {
	return s.Metric == o.Metric && slices.Equal(s.Tags, o.Tags)
}

// Tag returns the value the selector requires for key.
func (s Selector) Tag(key string) (value string, ok bool) {
	i, found := slices.BinarySearchFunc(s.Tags, key, func(t Tag, k string) int { return strings.Compare(t.Key, k) })
	if !found {
		return "", false
	}
	return s.Tags[i].Value, true
}

// Matches reports whether a sample with the given tags belongs to the
// selected sub-metric: as in k6, every selector tag must be present with
// exactly that value; other tags of the sample do not matter. The metric
// name is not compared.
func (s Selector) Matches(tags map[string]string) bool {
	for _, t := range s.Tags {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// ParseSelector parses a threshold key such as
// http_req_duration{endpoint:list}; see the package documentation for the
// grammar. Errors are *SyntaxError.
func ParseSelector(s string) (Selector, error) {
	p := selParser{in: s}
	return p.parse()
}

// selParser reads one selector; pos is a byte offset into in.
type selParser struct {
	in  string
	pos int
}

func (p *selParser) errAt(off int, format string, args ...any) error {
	return syntaxErr("selector", p.in, off, format, args...)
}

func (p *selParser) parse() (Selector, error) {
	if p.in == "" {
		return Selector{}, p.errAt(0, "empty selector; expected a metric name such as http_req_duration")
	}
	if !utf8.ValidString(p.in) {
		off := 0
		for off < len(p.in) {
			r, n := utf8.DecodeRuneInString(p.in[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return Selector{}, p.errAt(off, "invalid UTF-8")
	}
	name, err := p.metric()
	if err != nil {
		return Selector{}, err
	}
	if p.pos == len(p.in) {
		return Selector{Metric: name}, nil
	}
	tags, err := p.tags()
	if err != nil {
		return Selector{}, err
	}
	return Selector{Metric: name, Tags: tags}, nil
}

func isMetricByte(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || (!first && c >= '0' && c <= '9')
}

// metric reads the metric name and leaves pos at the end of input or at "{".
func (p *selParser) metric() (string, error) {
	for p.pos < len(p.in) && isMetricByte(p.in[p.pos], p.pos == 0) {
		p.pos++
	}
	name := p.in[:p.pos]
	if len(name) > maxMetricName {
		return "", p.errAt(maxMetricName, "metric name is %d characters long; k6 allows at most %d", len(name), maxMetricName)
	}
	if p.pos == len(p.in) {
		return name, nil
	}
	r, _ := utf8.DecodeRuneInString(p.in[p.pos:])
	rest := strings.TrimLeftFunc(p.in[p.pos:], unicode.IsSpace)
	switch {
	case name == "" && (r == '{' || r == '}'):
		return "", p.errAt(0, "missing metric name before %q", r)
	case name == "" && unicode.IsSpace(r):
		return "", p.errAt(0, "whitespace before the metric name is not allowed")
	case name == "" && r >= '0' && r <= '9':
		return "", p.errAt(0, "a metric name must start with a letter or \"_\", not %q", r)
	case r == '{':
		return name, nil
	case r == '}':
		return "", p.errAt(p.pos, "\"}\" without a matching \"{\"")
	case unicode.IsSpace(r) && rest == "":
		return "", p.errAt(p.pos, "whitespace after the metric name is not allowed")
	case unicode.IsSpace(r) && rest[0] == '{':
		return "", p.errAt(p.pos, "whitespace between the metric name and \"{\" is not allowed (k6 would look for a metric named %q)", p.in[:len(p.in)-len(rest)])
	case unicode.IsSpace(r):
		return "", p.errAt(p.pos, "whitespace inside a metric name is not allowed")
	}
	return "", p.errAt(p.pos, "character %q is not allowed in a metric name; k6 allows ASCII letters, digits and \"_\"", r)
}

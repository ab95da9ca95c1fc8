package threshold

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tags reads "{key:value,...}" from the "{" at pos to the end of input.
func (p *selParser) tags() ([]Tag, error) {
	open := p.pos
	p.pos++
	var tags []Tag
	seen := map[string]int{} // key -> byte offset of its first use
	for {
		p.skipSpace()
		if p.pos == len(p.in) {
			return nil, p.unclosed(open)
		}
		switch c := p.in[p.pos]; {
		case c == '}' && len(tags) == 0:
			return nil, p.errAt(open, "empty tag list \"{}\"; remove the braces or add key:value")
		case c == '}':
			return nil, p.errAt(p.pos, "trailing \",\" before \"}\"; remove it")
		case c == ',':
			return nil, p.errAt(p.pos, "empty tag before \",\"; expected key:value")
		}
		keyOff := p.pos
		key, err := p.token("key")
		if err != nil {
			return nil, err
		}
		if err := p.expectColon(open, key, keyOff); err != nil {
			return nil, err
		}
		if first, dup := seen[key]; dup {
			return nil, p.errAt(keyOff, "duplicate tag key %q (first set at column %d)", key,
				utf8.RuneCountInString(p.in[:first])+1)
		}
		seen[key] = keyOff
		p.skipSpace()
		valOff := p.pos
		value, err := p.token("value")
		if err != nil {
			return nil, err
		}
		if value == "" && p.pos < len(p.in) && p.in[p.pos] == '{' {
			return nil, p.unexpected("value")
		}
		if value == "" {
			return nil, p.errAt(valOff, "empty value for tag %q", key)
		}
		tags = append(tags, Tag{Key: key, Value: value})
		p.skipSpace()
		done, err := p.separator(open)
		if err != nil {
			return nil, err
		}
		if done {
			slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
			return tags, nil
		}
	}
}

func (p *selParser) skipSpace() {
	for p.pos < len(p.in) {
		r, n := utf8.DecodeRuneInString(p.in[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

func (p *selParser) unclosed(open int) error {
	return p.errAt(len(p.in), "missing \"}\" to close the tag list opened at column %d",
		utf8.RuneCountInString(p.in[:open])+1)
}

// expectColon checks what follows a key: ":" and a non-empty key.
func (p *selParser) expectColon(open int, key string, keyOff int) error {
	p.skipSpace()
	if p.pos == len(p.in) {
		return p.unclosed(open)
	}
	switch c := p.in[p.pos]; {
	case c == ':' && key == "":
		return p.errAt(keyOff, "empty tag key before \":\"")
	case c == ':':
		p.pos++
		return nil
	case c == ',' || c == '}':
		return p.errAt(p.pos, "tag %q has no value; write %s:value", key, key)
	}
	return p.unexpected("key")
}

// separator reads "," (done=false) or the final "}" (done=true).
func (p *selParser) separator(open int) (done bool, err error) {
	if p.pos == len(p.in) {
		return true, p.unclosed(open)
	}
	switch p.in[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case '}':
		p.pos++
		if p.pos < len(p.in) {
			return true, p.errAt(p.pos, "unexpected %s after the closing \"}\"", snippet(p.in, p.pos))
		}
		return true, nil
	}
	return true, p.unexpected("value")
}

// unexpected explains a character that cannot follow a key or value.
func (p *selParser) unexpected(what string) error {
	switch p.in[p.pos] {
	case '{':
		return p.errAt(p.pos, "\"{\" is not allowed inside a tag list")
	case '"', '\'':
		return p.errAt(p.pos, "quote inside a tag %s; quote the whole %s", what, what)
	}
	return p.errAt(p.pos, "unexpected %s after the quoted tag %s", snippet(p.in, p.pos), what)
}

// token reads a bare or quoted tag key or value at pos. A bare token ends
// at a separator and is trimmed; a quoted one is taken as is.
func (p *selParser) token(what string) (string, error) {
	start := p.pos
	if start == len(p.in) {
		return "", nil
	}
	if q := p.in[start]; q == '"' || q == '\'' {
		for i := start + 1; i < len(p.in); {
			r, n := utf8.DecodeRuneInString(p.in[i:])
			switch {
			case r == rune(q):
				p.pos = i + 1
				if i == start+1 && what == "key" {
					return "", p.errAt(start, "empty tag key")
				}
				return p.in[start+1 : i], nil
			case r == ',' || r == '{' || r == '}' || (r == ':' && what == "key"):
				return "", p.errAt(i, "%q is not allowed in a tag %s, quoted or not", r, what)
			case unicode.IsControl(r) && !unicode.IsSpace(r):
				return "", p.errAt(i, "control character %U is not allowed in a tag %s", r, what)
			}
			i += n
		}
		return "", p.errAt(start, "unterminated quote in a tag %s", what)
	}
	i := start
	for i < len(p.in) {
		r, n := utf8.DecodeRuneInString(p.in[i:])
		if r == ',' || r == '{' || r == '}' || r == '"' || r == '\'' || (r == ':' && what == "key") {
			break
		}
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return "", p.errAt(i, "control character %U is not allowed in a tag %s", r, what)
		}
		i += n
	}
	p.pos = i
	return strings.TrimRightFunc(p.in[start:i], unicode.IsSpace), nil
}

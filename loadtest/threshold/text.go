package threshold

import "encoding"

// Selectors and expressions read and write their canonical text, so they
// appear as such in JSON (the summary) and can be decoded from JSON or YAML
// (scenarios). Selector holds a slice and is not comparable: key Go maps by
// its String.
var (
	_ encoding.TextMarshaler   = Selector{}
	_ encoding.TextUnmarshaler = (*Selector)(nil)
	_ encoding.TextMarshaler   = Expression{}
	_ encoding.TextUnmarshaler = (*Expression)(nil)
)

// MarshalText implements encoding.TextMarshaler with the canonical form.
func (s Selector) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseSelector.
func (s *Selector) UnmarshalText(text []byte) error {
	v, err := ParseSelector(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText implements encoding.TextMarshaler with the canonical form;
// it fails for an invalid Expression.
func (e Expression) MarshalText() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseExpression.
func (e *Expression) UnmarshalText(text []byte) error {
	v, err := ParseExpression(string(text))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

package check

import "sync"

// Shared holds what the checks of one run share, above all the fixture
// users: the API's auth budget (5 requests per 15 minutes per address by
// default) affords one registration of them per run, not one per check.
// The runner gives every run a Shared of its own, so that two runs in one
// process never share users and nothing outlives its run. The zero Shared
// is ready to use; a nil one shares nothing.
type Shared struct {
	mu     sync.Mutex
	values map[any]any
}

// Value returns the value kept under key, keeping mk's first when there is
// none. Keys are compared as map keys: a pointer to a package variable
// keeps each package's values apart. On a nil Shared it returns mk's,
// kept nowhere.
func (s *Shared) Value(key any, mk func() any) any {
	if s == nil {
		return mk()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok {
		return v
	}
	if s.values == nil {
		s.values = map[any]any{}
	}
	v := mk()
	s.values[key] = v
	return v
}

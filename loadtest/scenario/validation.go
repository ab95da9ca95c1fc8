package scenario

import "strings"

// Validation is the outcome of validating scenario files, in the form
// harness validate -json prints: Valid is false when any file has a
// problem, and Errors lists every problem of every file.
type Validation struct {
	Valid  bool      `json:"valid"`
	Files  []Checked `json:"files"`
	Errors []Problem `json:"errors"`
}

// Checked is one file's outcome. The counts are those of a valid file.
type Checked struct {
	Path       string `json:"path"`
	Valid      bool   `json:"valid"`
	Scenarios  int    `json:"scenarios,omitempty"`
	Journeys   int    `json:"journeys,omitempty"`
	Thresholds int    `json:"thresholds,omitempty"`
}

// NewValidation returns a Validation of no files yet: valid, with empty
// lists rather than nulls, so a script can range over them.
func NewValidation() *Validation {
	return &Validation{Valid: true, Files: []Checked{}, Errors: []Problem{}}
}

// Add records the outcome of validating the file at path: f when it is
// valid, err (an error of Load, say) when it is not.
func (v *Validation) Add(path string, f *File, err error) {
	if err != nil {
		v.Valid = false
		v.Files = append(v.Files, Checked{Path: path})
		v.Errors = append(v.Errors, Problems(path, err)...)
		return
	}
	v.Files = append(v.Files, Checked{Path: path, Valid: true, Scenarios: len(f.Scenarios), Journeys: len(f.Journeys), Thresholds: len(f.Thresholds)})
}

// Problems lists the Problems err carries, however deeply joined or
// wrapped. An error that carries none (an unreadable file, YAML that does
// not parse) is one Problem of the file at path, with err's message
// without the ErrInvalid prefix that Problems make plain.
func Problems(path string, err error) []Problem {
	var ps []Problem
	var walk func(error)
	walk = func(e error) {
		if p, ok := e.(Problem); ok {
			ps = append(ps, p)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	if len(ps) == 0 && err != nil {
		ps = append(ps, Problem{File: path, Msg: strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")})
	}
	return ps
}

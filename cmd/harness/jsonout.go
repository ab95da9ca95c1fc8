package main

import (
	"encoding/json"
	"flag"
	"io"
)

// jsonOutput is the -json flag of a command whose result can be one JSON
// document on stdout, for scripts: its progress and diagnostics then go to
// stderr, and its exit code is the same as without -json.
type jsonOutput struct {
	on     bool
	stderr io.Writer // set by run before the command runs
	wrote  bool
}

func (j *jsonOutput) register(fs *flag.FlagSet) {
	fs.BoolVar(&j.on, "json", false, "print the result as one JSON document on stdout; progress and diagnostics go to stderr")
}

// progress is where the command writes what is not its result: stderr
// with -json, out otherwise.
func (j *jsonOutput) progress(out io.Writer) io.Writer {
	if j.on && j.stderr != nil {
		return j.stderr
	}
	return out
}

// write prints v, the command's result, as an indented JSON document.
func (j *jsonOutput) write(out io.Writer, v any) error {
	j.wrote = true
	return encodeJSON(out, v)
}

// encodeJSON writes v as the harness's JSON documents are written:
// indented, with <, > and & as themselves (a threshold reads p(95)<500).
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// errorDocument is what stdout holds when a command given -json failed
// before it had a result to print, so that stdout always parses.
type errorDocument struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// fail prints why the command failed as its document, unless it printed
// one.
func (j *jsonOutput) fail(out io.Writer, why string, code int) {
	if j == nil || !j.on || j.wrote {
		return
	}
	_ = j.write(out, errorDocument{Error: why, ExitCode: code})
}

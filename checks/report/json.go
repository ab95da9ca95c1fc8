package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/taskready/taskready/checks/readiness"
)

// JSON writes r as readiness.json (format "taskready.readiness", version
// 1), indented, with "<", ">" and "&" left as they are so that evidence
// reads as it was captured; readiness.ReadReport reads it back.
func JSON(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

package prom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Lint runs `promtool check metrics` on an exposition in the text format
// and returns its findings (names, help, units, counters' _total), one per
// line; none means promtool is content.
func Lint(ctx context.Context, exposition []byte) ([]string, error) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		return nil, fmt.Errorf("promtool: %w", ErrNotInstalled)
	}
	cmd := exec.CommandContext(ctx, bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var findings []string
	for _, line := range strings.Split(out.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			findings = append(findings, line)
		}
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &exit) && len(findings) > 0:
		// promtool exits non-zero when it has something to say.
		return findings, nil
	default:
		return nil, fmt.Errorf("promtool check metrics: %w: %s", err, out.String())
	}
}

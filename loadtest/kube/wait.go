package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SummaryFile is the file a worker writes after its histograms: once it is
// whole, the worker's results are ready to merge.
const SummaryFile = "summary.json"

// DefaultPoll is how often Wait looks at the volume.
const DefaultPoll = 5 * time.Second

// Wait blocks until every directory in dirs holds a complete SummaryFile,
// looking every poll and telling progress when the count changes. It
// returns ctx's error, naming the directories still missing, when ctx ends
// first: a worker that failed writes nothing, and only the deadline tells.
func Wait(ctx context.Context, dirs []string, poll time.Duration, progress io.Writer) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	ready := make([]bool, len(dirs))
	reported := -1
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		n := 0
		var missing []string
		for i, dir := range dirs {
			if !ready[i] {
				ready[i] = complete(filepath.Join(dir, SummaryFile))
			}
			if ready[i] {
				n++
			} else {
				missing = append(missing, dir)
			}
		}
		if n != reported {
			fmt.Fprintf(progress, "harness: %d of %d directories hold their %s\n", n, len(dirs), SummaryFile)
			reported = n
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the workers: %w; no %s yet in %s", context.Cause(ctx), SummaryFile, list(missing))
		case <-tick.C:
		}
	}
}

// complete reports whether path holds a whole JSON document: the volume
// may show a summary the worker is still writing, and a half-written one
// does not parse.
func complete(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && json.Valid(data)
}

// list names the first few dirs: a thousand paths would bury the error.
func list(dirs []string) string {
	const few = 10
	if len(dirs) <= few {
		return strings.Join(dirs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(dirs[:few], ", "), len(dirs)-few)
}

// WriteSummary writes v as dir's SummaryFile, which Wait takes as the sign
// that dir is complete (the seed Job's, for the workers). It writes a
// temporary file and renames it, so that no poller sees half of it.
func WriteSummary(dir string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, SummaryFile+".*")
	if err != nil {
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, SummaryFile)); err != nil {
		return fmt.Errorf("summary of %s: %w", dir, err)
	}
	return nil
}

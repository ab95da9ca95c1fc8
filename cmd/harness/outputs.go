package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// Output files of a run, inside its directory.
const (
	summaryFile   = "summary.json"
	histogramsDir = "histograms"
	recorderFile  = "run.json"
)

// writeOutputs writes the summary, the histograms and every report into
// dir, and copies them to out/latest when dir is under out/.
func writeOutputs(dir string, sum *summary.Summary, res *engine.Result) error {
	if err := os.MkdirAll(filepath.Join(dir, histogramsDir), 0o755); err != nil {
		return err
	}
	if res != nil {
		if err := writeFile(filepath.Join(dir, histogramsDir, recorderFile), res.Recorder.Encode); err != nil {
			return err
		}
	}
	if err := sum.WriteFile(filepath.Join(dir, summaryFile)); err != nil {
		return err
	}
	for name, render := range map[string]func(io.Writer, *summary.Summary) error{
		"report.html": report.HTML, "report.md": report.Markdown, "junit.xml": report.JUnit,
	} {
		if err := writeFile(filepath.Join(dir, name), func(w io.Writer) error { return render(w, sum) }); err != nil {
			return err
		}
	}
	if filepath.Dir(dir) == "out" && filepath.Base(dir) != "latest" {
		return copyDir(dir, filepath.Join("out", "latest"))
	}
	return nil
}

func writeText(w io.Writer, sum *summary.Summary) error {
	fmt.Fprintln(w)
	return report.Text(w, sum)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// copyDir replaces dst with a copy of src: a copy rather than a symlink,
// since CI artifact uploaders do not all follow links.
func copyDir(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// version is the harness's module version, or its VCS revision.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return bi.Main.Version + " " + s.Value[:12]
		}
	}
	return bi.Main.Version
}

func errK6Missing() error {
	return fmt.Errorf("%w: -engine k6 needs k6 on PATH: install it from https://grafana.com/docs/k6/latest/set-up/install-k6/ (or use `harness k6 export` and run the script where k6 is)", errUsage)
}

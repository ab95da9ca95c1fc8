package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/seed"
)

// drDoc is the disaster-recovery document the commands below write into
// and the test keeps true.
const drDoc = "../../docs/disaster-recovery.md"

// TestRestoreDrillCommand drives backup, restore-drill and restore as
// docs/disaster-recovery.md does, against a real (embedded) MongoDB.
func TestRestoreDrillCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	if _, err := seed.Run(ctx, client.Database("taskmanager"), seed.Options{Users: 20, TasksPerUser: 5, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backups")
	harness := func(want int, args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, args, &out, &errOut); code != want {
			t.Fatalf("harness %v = %d, want %d\nstdout %s\nstderr %s", args, code, want, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}
	harness(exitPass, "backup", "-mongo-uri", m.URI(), "-dir", dir)

	// A write after the backup, stamped as the API stamps its writes: the
	// drill counts it as what a restore would lose.
	later := time.Now().Add(2 * time.Second)
	if _, err := client.Database("taskmanager").Collection("tasks").InsertOne(ctx,
		bson.D{{Key: "title", Value: "after the backup"}, {Key: "createdAt", Value: later}, {Key: "updatedAt", Value: later}}); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "dr.md")
	original, err := os.ReadFile(drDoc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, original, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := harness(exitPass, "restore-drill", "-mongo-uri", m.URI(), "-dir", dir, "-count-writes", "-doc", doc, "-json")
	var rec backup.Recovery
	if err := json.Unmarshal([]byte(stdout), &rec); err != nil {
		t.Fatalf("-json printed %v:\n%s", err, stdout)
	}
	t.Logf("%s", stderr)
	if !rec.DrillPassed || rec.RPO.Verdict != "pass" || rec.RTO.Verdict != "pass" || rec.RTO.AchievedSeconds <= 0 ||
		rec.RTO.Documents != 120 || rec.RPO.SourceGrowthDocuments != 1 || rec.Writes == nil || rec.Writes.Documents != 1 ||
		rec.Host == nil || rec.Host.CPUs <= 0 || rec.RPO.ObjectiveSeconds != check.DefaultPolicy.RPO.Seconds() {
		t.Errorf("restore-drill -json: %+v", rec)
	}
	for _, want := range []string{"✓ counts, checksums and indexes match", "RPO pass:", "RTO pass:", "writes since the backup: 1 documents", "wrote the measurement into"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("restore-drill said nothing like %q", want)
		}
	}
	written, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back, _, err := backup.DocRecovery(written); err != nil || !back.MeasuredAt.Equal(rec.MeasuredAt) || back.RTO != rec.RTO {
		t.Errorf("-doc wrote %+v (%v), -json printed %+v", back, err, rec)
	}

	// Objectives missed: the drill passes, the command fails and says why.
	out, _ := harness(exitFail, "restore-drill", "-mongo-uri", m.URI(), "-dir", dir, "-rto", "1ns", "-rpo", "1ns")
	for _, want := range []string{"RPO fail: a restore now would lose", "more than the RPO of 1ns", "RTO fail: restoring", "more than the RTO of 1ns"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore-drill with objectives of 1ns said nothing like %q:\n%s", want, out)
		}
	}
	harness(exitUsage, "restore-drill", "-mongo-uri", m.URI(), "-dir", dir, "-rpo", "0s")
	noMarkers := filepath.Join(t.TempDir(), "plain.md")
	_ = os.WriteFile(noMarkers, []byte("# no section\n"), 0o644)
	_, why := harness(exitUsage, "restore-drill", "-mongo-uri", m.URI(), "-dir", dir, "-doc", noMarkers)
	if !strings.Contains(why, "restore-drill:begin") {
		t.Errorf("-doc without markers: %s", why)
	}

	// The real restore, into another name on the same server, and never
	// over data.
	out, _ = harness(exitPass, "restore", "-mongo-uri", m.URI(), "-db", "taskmanager", "-dir", dir, "-into", "taskmanager_restored")
	if !strings.Contains(out, "✓ counts, checksums and indexes match the archive") || !strings.Contains(out, "into taskmanager_restored") {
		t.Errorf("restore said:\n%s", out)
	}
	if n, err := client.Database("taskmanager_restored").Collection("tasks").CountDocuments(ctx, bson.D{}); err != nil || n != 100 {
		t.Errorf("the restored database has %d tasks (%v), want the archive's 100", n, err)
	}
	_, why = harness(exitFail, "restore", "-mongo-uri", m.URI(), "-dir", dir, "-into", "taskmanager_restored")
	if !strings.Contains(why, "not empty") {
		t.Errorf("restore over data: %s", why)
	}
	archives, _ := backup.List(dir)
	damaged := filepath.Join(t.TempDir(), archives[0].Name)
	_ = os.WriteFile(damaged, []byte("not an archive"), 0o600)
	_, why = harness(exitFail, "restore", "-mongo-uri", m.URI(), "-archive", damaged, "-into", "other")
	if !strings.Contains(why, "cannot be restored") {
		t.Errorf("restore of a damaged archive: %s", why)
	}
}

// TestDisasterRecoveryDoc keeps docs/disaster-recovery.md true: its
// measured section is what a drill wrote, every harness command in it
// exists with the flags it uses, and its policy snippet states the
// checks' defaults.
func TestDisasterRecoveryDoc(t *testing.T) {
	doc, err := os.ReadFile(drDoc)
	if err != nil {
		t.Fatal(err)
	}

	rec, section, err := backup.DocRecovery(doc)
	if err != nil {
		t.Fatalf("%s: %v (write it with harness restore-drill -doc %s)", drDoc, err, drDoc)
	}
	md, err := rec.Markdown()
	if err != nil {
		t.Fatal(err)
	}
	if section != "\n"+md {
		t.Errorf("the measured section of %s is not what its JSON renders: edited by hand, or the drill's output changed; run the drill with -doc again.\nrenders:\n%s", drDoc, md)
	}
	// The prose says what was drilled: 1,000 users and 100,000 tasks.
	if !rec.DrillPassed || rec.RTO.Documents != 101000 || rec.Host == nil || rec.Host.Load == "" {
		t.Errorf("the measured drill is not the one the document describes (a passed drill of 101,000 documents, with the load): %+v", rec)
	}

	cmds := map[string]command{}
	for _, c := range commands() {
		cmds[c.name()] = c
	}
	uses := regexp.MustCompile("(?m)^\\s*harness [^\\n]+|`harness [^`]+`").FindAllString(string(doc), -1)
	if len(uses) < 10 {
		t.Fatalf("found %d harness commands in %s; the parser is wrong", len(uses), drDoc)
	}
	for _, use := range uses {
		fields := strings.Fields(strings.Trim(strings.TrimSpace(use), "`"))
		c, ok := cmds[fields[1]]
		if !ok {
			t.Errorf("%s: %q: harness has no command %q", drDoc, use, fields[1])
			continue
		}
		for _, f := range fields[2:] {
			if f == ">" {
				break
			}
			if name, isFlag := strings.CutPrefix(f, "-"); isFlag {
				name, _, _ = strings.Cut(name, "=")
				if c.fs.Lookup(name) == nil {
					t.Errorf("%s: %q: harness %s has no flag -%s", drDoc, use, fields[1], name)
				}
			}
		}
	}

	snippet := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if snippet == nil {
		t.Fatalf("%s has no policy snippet", drDoc)
	}
	p, err := readiness.ParsePolicy(snippet[1], drDoc)
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds.RPO != check.DefaultPolicy.RPO || p.Thresholds.RTO != check.DefaultPolicy.RTO {
		t.Errorf("%s says the defaults are rpo %v and rto %v; the checks' are %v and %v", drDoc,
			p.Thresholds.RPO, p.Thresholds.RTO, check.DefaultPolicy.RPO, check.DefaultPolicy.RTO)
	}
	for _, d := range []time.Duration{check.DefaultPolicy.RPO, check.DefaultPolicy.RTO} {
		short := strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m") // 26h0m0s: 26h
		if !bytes.Contains(doc, []byte("| "+short+" |")) && !bytes.Contains(doc, []byte("| "+short+":")) {
			t.Errorf("%s's objectives table does not give the default %s", drDoc, short)
		}
	}
}

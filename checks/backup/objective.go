package backup

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Objectives are the recovery objectives a drill is judged against: RPO,
// the most data (in time) a restore may lose, and RTO, the longest the
// restore itself may take, from its start to a verified database.
type Objectives struct {
	RPO, RTO time.Duration
}

// The verdicts of Recovery, as the readiness checks spell their statuses.
const (
	VerdictPass = "pass"
	VerdictWarn = "warn"
	VerdictFail = "fail"
)

// Recovery is what one restore drill measured of recovery, judged against
// the objectives: harness restore-drill -json prints it, the checks
// backup.rpo and backup.rto put it in the readiness report, and
// docs/disaster-recovery.md quotes one. Durations are in seconds.
type Recovery struct {
	// MeasuredAt is when the drill finished: the instant RPO is measured at.
	MeasuredAt time.Time `json:"measuredAt"`
	Database   string    `json:"database"` // the database the archive holds
	Archive    string    `json:"archive"`  // the archive's file name
	// ScratchDatabase is the database the drill restored into and dropped.
	ScratchDatabase string `json:"scratchDatabase"`
	// BackupAt is when the archive's dump started: writes after it may be
	// missing from the archive (the dump is consistent per collection).
	BackupAt time.Time `json:"backupAt"`
	// DrillPassed says the archive restored and matched exactly; without
	// it there is no verified recovery point and no measured RTO.
	DrillPassed bool           `json:"drillPassed"`
	Reasons     []string       `json:"reasons,omitempty"` // why the drill failed
	RPO         RecoveryPoint  `json:"rpo"`
	RTO         RecoveryTime   `json:"rto"`
	Host        *RecoveryHost  `json:"host,omitempty"`
	Writes      *WritesSince   `json:"writesSinceBackup,omitempty"`
	Collections []RecoveryPart `json:"collections"`
}

// RecoveryPoint is the RPO achieved: how much a restore from the newest
// verified backup would lose if the database were lost at MeasuredAt.
type RecoveryPoint struct {
	// AchievedSeconds is MeasuredAt - BackupAt, the age of the verified
	// backup: every write in that window would be lost.
	AchievedSeconds  float64 `json:"achievedSeconds"`
	ObjectiveSeconds float64 `json:"objectiveSeconds"` // the policy's RPO
	// IntervalSeconds is the time between the two newest archives of the
	// database, the schedule as the directory shows it (0: one archive,
	// unknown); WorstCaseSeconds is that plus DumpSeconds, what a loss
	// just before the next backup lands would cost.
	IntervalSeconds  float64 `json:"intervalSeconds"`
	WorstCaseSeconds float64 `json:"worstCaseSeconds"`
	DumpSeconds      float64 `json:"dumpSeconds"` // the archive's dump time
	// SourceGrowthDocuments is the live source's estimated documents
	// minus the archive's: at least this many inserts would be lost
	// (updates and deletes do not show; -1 when not known).
	SourceGrowthDocuments int64  `json:"sourceGrowthDocuments"`
	Verdict               string `json:"verdict"` // pass, warn or fail
	Why                   string `json:"why"`     // the verdict in a sentence
}

// RecoveryTime is the RTO achieved: the restore's wall time from its start
// to a database whose counts, checksums and indexes were verified.
type RecoveryTime struct {
	// AchievedSeconds is RestoreSeconds + VerifySeconds.
	AchievedSeconds  float64 `json:"achievedSeconds"`
	ObjectiveSeconds float64 `json:"objectiveSeconds"` // the policy's RTO
	// RestoreSeconds is reading the archive, creating the collections and
	// inserting the documents, IndexSeconds (its part) building the
	// indexes, VerifySeconds re-reading and comparing everything.
	RestoreSeconds float64 `json:"restoreSeconds"`
	IndexSeconds   float64 `json:"indexSeconds"`
	VerifySeconds  float64 `json:"verifySeconds"`
	// Documents, DataBytes (raw BSON) and ArchiveBytes are what was
	// restored, so the time extrapolates.
	Documents    int64 `json:"documents"`
	DataBytes    int64 `json:"dataBytes"`
	ArchiveBytes int64 `json:"archiveBytes"`
	// SecondsPerMillionDocuments and SecondsPerGiB are the achieved RTO
	// per million documents and per GiB of BSON.
	SecondsPerMillionDocuments float64 `json:"secondsPerMillionDocuments"`
	SecondsPerGiB              float64 `json:"secondsPerGiB"`
	// SourceDocuments is the live source's estimated size now (-1 when
	// not known); ProjectedSeconds the achieved RTO scaled to it when the
	// source has grown past the archive.
	SourceDocuments  int64   `json:"sourceDocuments"`
	ProjectedSeconds float64 `json:"projectedSeconds"`
	Verdict          string  `json:"verdict"` // pass, warn or fail
	Why              string  `json:"why"`     // the verdict in a sentence
}

// RecoveryPart is one collection of the drill.
type RecoveryPart struct {
	Name            string `json:"name"`
	Documents       int64  `json:"documents"`       // in the archive, and restored
	SourceDocuments int64  `json:"sourceDocuments"` // the live estimate, -1 unknown
}

// RecoveryHost is the machine the drill ran on, so that a time quoted
// in a document can be read against its load (uptime's load averages).
type RecoveryHost struct {
	CPUs int    `json:"cpus"`
	Load string `json:"load,omitempty"` // 1, 5 and 15 minute load averages
}

// WritesSince counts the documents written since the backup: those whose
// createdAt or updatedAt is at or after BackupAt, which a restore would
// lose. Deletes do not show, and a collection without these fields counts
// nothing.
type WritesSince struct {
	Documents   int64            `json:"documents"`
	Collections map[string]int64 `json:"collections"`
}

// Measure turns a drill into a Recovery judged against obj. archives are
// the directory's archives (List), for the schedule; at is when RPO is
// measured.
func Measure(r DrillReport, archives []Archive, at time.Time, obj Objectives) Recovery {
	backupAt := r.Manifest.CreatedAt
	if backupAt.IsZero() {
		backupAt = r.Archive.Time
	}
	rec := Recovery{
		MeasuredAt: at.UTC(), Database: r.Archive.Database, Archive: r.Archive.Name, ScratchDatabase: r.ScratchDatabase, BackupAt: backupAt.UTC(),
		DrillPassed: r.Passed, Reasons: r.Reasons, Collections: []RecoveryPart{},
	}
	var source int64
	for _, c := range r.Collections {
		rec.Collections = append(rec.Collections, RecoveryPart{Name: c.Name, Documents: c.ArchiveCount, SourceDocuments: c.SourceCount})
		if c.SourceCount < 0 || source < 0 {
			source = -1
		} else {
			source += c.SourceCount
		}
	}
	if len(r.Collections) == 0 {
		source = -1
	}

	p := &rec.RPO
	p.AchievedSeconds = seconds(at.Sub(backupAt))
	p.ObjectiveSeconds = seconds(obj.RPO)
	p.DumpSeconds = seconds(r.BackupDuration)
	p.SourceGrowthDocuments = -1
	if source >= 0 {
		p.SourceGrowthDocuments = max(0, source-r.Manifest.Documents)
	}
	var mine []Archive
	for _, a := range archives {
		if a.Database == r.Archive.Database {
			mine = append(mine, a)
		}
	}
	if len(mine) >= 2 {
		p.IntervalSeconds = seconds(mine[0].Time.Sub(mine[1].Time))
		p.WorstCaseSeconds = p.IntervalSeconds + p.DumpSeconds
	}

	t := &rec.RTO
	achieved := r.RestoreDuration + r.VerifyDuration
	t.AchievedSeconds = seconds(achieved)
	t.ObjectiveSeconds = seconds(obj.RTO)
	t.RestoreSeconds, t.IndexSeconds, t.VerifySeconds = seconds(r.RestoreDuration), seconds(r.IndexDuration), seconds(r.VerifyDuration)
	t.Documents, t.DataBytes, t.ArchiveBytes = r.Documents, r.DataBytes, r.ArchiveBytes
	if r.Documents > 0 {
		t.SecondsPerMillionDocuments = t.AchievedSeconds / float64(r.Documents) * 1e6
	}
	if r.DataBytes > 0 {
		t.SecondsPerGiB = t.AchievedSeconds / (float64(r.DataBytes) / (1 << 30))
	}
	t.SourceDocuments = source
	t.ProjectedSeconds = t.AchievedSeconds
	if source > r.Documents && r.Documents > 0 {
		t.ProjectedSeconds = t.AchievedSeconds * float64(source) / float64(r.Documents)
	}

	judgeRPO(&rec, obj)
	judgeRTO(&rec, obj)
	return rec
}

// judgeRPO sets the RPO's verdict: fail without a verified backup or when
// the verified one is older than the objective, warn when the schedule's
// worst case exceeds it.
func judgeRPO(rec *Recovery, obj Objectives) {
	p := &rec.RPO
	age := dur(p.AchievedSeconds)
	switch {
	case !rec.DrillPassed:
		p.Verdict, p.Why = VerdictFail, fmt.Sprintf("no verified recovery point: the newest archive %s did not restore, so a restore now would lose more than its %s (RPO %s)",
			rec.Archive, human(age), obj.RPO)
	case age > obj.RPO:
		p.Verdict, p.Why = VerdictFail, fmt.Sprintf("a restore now would lose %s of writes (the newest verified backup %s started %s), more than the RPO of %s",
			human(age), rec.Archive, rec.BackupAt.Format(time.RFC3339), obj.RPO)
	case -age > futureSkew:
		p.Verdict, p.Why = VerdictWarn, fmt.Sprintf("the newest archive %s is dated %s after this host's clock: clock skew on the backup host?", rec.Archive, human(age))
	case p.WorstCaseSeconds > 0 && dur(p.WorstCaseSeconds) > obj.RPO:
		p.Verdict, p.Why = VerdictWarn, fmt.Sprintf("a restore now would lose %s of writes, but on this schedule (%s between the newest two archives, %s of dump) a loss just before the next backup lands would cost %s, more than the RPO of %s",
			human(age), human(dur(p.IntervalSeconds)), human(dur(p.DumpSeconds)), human(dur(p.WorstCaseSeconds)), obj.RPO)
	default:
		p.Verdict, p.Why = VerdictPass, fmt.Sprintf("a restore now would lose the writes of the last %s (the newest verified backup %s), within the RPO of %s",
			human(age), rec.Archive, obj.RPO)
	}
}

// judgeRTO sets the RTO's verdict: fail without a verified restore or when
// it took longer than the objective; warn when the source has grown past
// what the objective allows, or when the restore alone used more than half
// of it (detection, decision and provisioning need the rest).
func judgeRTO(rec *Recovery, obj Objectives) {
	t := &rec.RTO
	took := dur(t.AchievedSeconds)
	switch {
	case !rec.DrillPassed:
		t.Verdict, t.Why = VerdictFail, fmt.Sprintf("no restore of %s finished verified, so no recovery time was achieved (RTO %s)", rec.Archive, obj.RTO)
	case took > obj.RTO:
		t.Verdict, t.Why = VerdictFail, fmt.Sprintf("restoring %s to a verified database took %s, more than the RTO of %s",
			rec.Archive, took.Round(time.Millisecond), obj.RTO)
	case dur(t.ProjectedSeconds) > obj.RTO:
		t.Verdict, t.Why = VerdictWarn, fmt.Sprintf("the restore took %s for %d documents; at the source's size now (about %d) it would take about %s, more than the RTO of %s",
			took.Round(time.Millisecond), t.Documents, t.SourceDocuments, dur(t.ProjectedSeconds).Round(time.Second), obj.RTO)
	case took > obj.RTO/2:
		t.Verdict, t.Why = VerdictWarn, fmt.Sprintf("the restore took %s, more than half the RTO of %s: detecting the loss, deciding and provisioning a server must fit in the rest",
			took.Round(time.Millisecond), obj.RTO)
	default:
		t.Verdict, t.Why = VerdictPass, fmt.Sprintf("restoring %s to a verified database took %s for %d documents (%.1f s per million), within the RTO of %s",
			rec.Archive, took.Round(time.Millisecond), t.Documents, t.SecondsPerMillionDocuments, obj.RTO)
	}
}

// CountWritesSince counts, in each collection the manifest lists, the
// documents of db created or updated at or after the backup started:
// the writes a restore of that archive would lose. It scans each
// collection (no index covers updatedAt), so it is for drills, not for
// every readiness run against a large production database.
func CountWritesSince(ctx context.Context, db *mongo.Database, m Manifest) (WritesSince, error) {
	w := WritesSince{Collections: map[string]int64{}}
	since := bson.DateTime(m.CreatedAt.UnixMilli())
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}}},
		bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: since}}}},
	}}}
	for _, c := range m.Collections {
		n, err := db.Collection(c.Name).CountDocuments(ctx, filter)
		if err != nil {
			return w, fmt.Errorf("count writes since the backup in %s.%s: %w", db.Name(), c.Name, err)
		}
		w.Collections[c.Name] = n
		w.Documents += n
	}
	return w, nil
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func dur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

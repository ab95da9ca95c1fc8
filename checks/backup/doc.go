// Package backup makes, verifies, restores and prunes backups of the task
// API's MongoDB database, measures the recovery objectives a restore
// achieves, and checks them for readiness (the checks BKP-01..03 of the
// report): [Backup], [Verify], [Restore], [Drill], [Recover], [Measure],
// [Retention], [Prune] and [Checks].
//
// # Why its own format
//
// The anchors describe `mongodump --archive --gzip`. That archive format
// is undocumented outside mongo-tools' source, and neither mongodump nor
// mongorestore is available to test against, so writing it here could
// not be shown to be correct. The package writes a small documented
// format instead (FORMAT.md), built from standard pieces so that it can
// be inspected without this code:
//
//	taskmanager-20261128T184500Z.tar.gz     gzip'd tar, UTC start time in the name
//	  manifest.json                         first entry: format, version, database,
//	                                        times, per collection count, bytes,
//	                                        SHA-256, options, index specs
//	  taskmanager/tasks.metadata.json       mongodump-style options and indexes
//	  taskmanager/tasks.bson                raw BSON documents, one after another,
//	  ...                                   in _id order
//
// The .bson files are the same as mongodump's (`bsondump` reads them),
// and the directory layout is mongodump's, so an extracted archive is
// meant to be restorable with `mongorestore --dir`; that has not been
// tested here.
//
// # Checksums
//
// Each collection is read once with a cursor sorted by _id and streamed
// to disk; the manifest records the SHA-256 of exactly those bytes. The
// same data therefore gives the same checksum, [Verify] can check an
// archive with no database, and [Drill] can re-read the restored
// collection in _id order and compare byte for byte: a server that does
// not hand back what was stored (type or field-order changes) fails the
// drill rather than passing it.
//
// # Consistency
//
// A dump is consistent per collection, not across collections (as
// mongodump without --oplog): it is not a point-in-time snapshot, and
// writes during the backup may reach one collection's file and not
// another's. For the task API (users and their tasks) the worst case is
// a task whose user was created during the backup.
//
// # Retention
//
// [Retention] and [Prune] implement grandfather-father-son retention by
// UTC calendar day and ISO week, with times taken from archive names
// (mtimes change when files are copied). keep_daily=7 means an archive
// on each of the 7 complete days before today; today and the current
// week are in progress and not required. A history that does not reach
// back far enough yet (a new deployment) warns instead of failing; a gap
// after the oldest archive fails. [Prune] never removes what
// [Retention] requires, the newest archive, or files that are not
// archive names.
//
// # Recovery objectives
//
// [Measure] turns a drill into a [Recovery]: the RPO achieved is the age
// of the archive the drill verified, from the start of its dump (what a
// restore at that moment would lose), with the schedule's worst case (the
// interval between the two newest archives plus the dump); the RTO
// achieved is the drill's restore, index build and verification, with
// its rate per million documents and per GiB so it extrapolates. Both
// are judged against the policy's rpo and rto. Detection, decision and
// provisioning are not in the RTO: only a person's runbook knows them
// (docs/disaster-recovery.md, whose measured section [SpliceDoc] writes).
//
// # Checks
//
// backup.recent (critical), backup.intact (critical), backup.restores
// (critical; needs Target.Mongo), backup.rpo (critical; needs
// Target.Mongo), backup.rto (high; needs Target.Mongo) and
// backup.retention (medium) are NotApplicable without Target.BackupDir.
// The three that restore share one drill per run; it restores into a
// scratch database "drill_<db>_<random>" and drops it, even when the
// check's context has ended.
package backup

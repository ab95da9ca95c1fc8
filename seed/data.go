package seed

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Ken", "Margaret", "Dennis", "Radia", "Linus", "Katherine", "John", "Hedy", "Tim", "Shafi"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Thompson", "Hamilton", "Ritchie", "Perlman", "Torvalds", "Johnson", "McCarthy", "Lamarr", "Berners-Lee", "Goldwasser"}
	verbs      = []string{"Buy", "Call", "Write", "Review", "Fix", "Plan", "Book", "Clean", "Send", "Prepare", "Update", "Read", "Schedule", "Pay", "Renew", "Organise"}
	objects    = []string{"milk", "the dentist", "the quarterly report", "pull request #%d", "the leaking tap", "the team offsite", "flights to Lisbon", "the garage", "invoices", "slides for Monday", "the README", "chapter %d", "a 1:1 with Sam", "the electricity bill", "the passport", "the bookshelf"}
	notes      = []string{"", "", "Before Friday.", "Ask for a discount.", "See the email thread.", "Low priority.", "Blocked on legal.", "Bring the receipts.", "Remember the charger."}
	// statuses skew the way real lists do: most work is open.
	statuses = []string{"pending", "pending", "pending", "in-progress", "in-progress", "completed"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func name(rng *rand.Rand) string { return pick(rng, firstNames) + " " + pick(rng, lastNames) }

func title(rng *rand.Rand) string {
	obj := pick(rng, objects)
	if strings.Contains(obj, "%d") {
		obj = strings.Replace(obj, "%d", strconv.Itoa(1+rng.IntN(999)), 1)
	}
	return pick(rng, verbs) + " " + obj
}

func description(rng *rand.Rand) string { return pick(rng, notes) }

func status(rng *rand.Rand) string { return pick(rng, statuses) }

// objectID makes an ObjectID whose time part is the document's creation
// time (as if the driver had made it then) and whose rest comes from the
// generator, so a seed reproduces the ids' order and randomness.
func objectID(rng *rand.Rand, created time.Time) bson.ObjectID {
	var id bson.ObjectID
	binary.BigEndian.PutUint32(id[0:4], uint32(created.Unix()))
	binary.BigEndian.PutUint64(id[4:12], rng.Uint64())
	return id
}

// Package spelling measures how far a word is from the ones a format
// knows, so that parsers can answer a typo with "did you mean ...?".
// Its functions are pure and safe for concurrent use.
package spelling

// Distance is the Levenshtein distance between a and b, by bytes: the
// fewest insertions, deletions and substitutions that turn one into the
// other. It is meant for short identifiers.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest is the word of known nearest to word, by Distance, when it is
// within maxEdits edits; "" when none is. Ties go to the earlier word.
func Closest(word string, known []string, maxEdits int) string {
	best, dist := "", maxEdits+1
	for _, k := range known {
		if d := Distance(word, k); d < dist {
			best, dist = k, d
		}
	}
	return best
}

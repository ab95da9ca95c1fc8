package contract

// StepNames returns the names of the steps, in order, so that the tests
// of package contract_test can count them instead of hard-coding it.
func StepNames() []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.name
	}
	return names
}

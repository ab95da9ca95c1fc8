package scenario

// PhaseStarts exposes phaseStarts to the tests, which hold it to the
// executors' schedules.
var PhaseStarts = phaseStarts

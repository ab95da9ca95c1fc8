package resilience

import "time"

// Scale sets the bounds of the load and store checks for the package's
// tests, whose fakes answer in milliseconds, and restores them with the
// returned function: the real bounds fit a deployment, not a unit test.
func Scale() (restore func()) {
	savedBound, savedFault := floodBound, faultDeadline
	// The flood's p95 over 10 probes is their slowest: 500ms is over ten
	// times what a fake answers in under -race on a busy machine, and
	// half the second its flawed twin hangs for.
	floodBound, faultDeadline = 500*time.Millisecond, 3*time.Second
	saved := []any{MaxIdleConns, MaxSlowConns, floodProbes, floodRecovery, slowEvery,
		calibrateFor, burstFor, MaxBurstRequests, recoverWithin, overloadTimeout,
		storeDeadline, storePoll, failoverRound, readinessGrace}
	MaxIdleConns, MaxSlowConns, floodProbes, floodRecovery, slowEvery = 200, 10, 10, time.Second, 100*time.Millisecond
	calibrateFor, burstFor, MaxBurstRequests, recoverWithin, overloadTimeout = time.Second, time.Second, 3000, 2*time.Second, 2*time.Second
	storeDeadline, storePoll, failoverRound, readinessGrace = 3*time.Second, 50*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	return func() {
		floodBound, faultDeadline = savedBound, savedFault
		MaxIdleConns, MaxSlowConns, floodProbes = saved[0].(int), saved[1].(int), saved[2].(int)
		floodRecovery, slowEvery = saved[3].(time.Duration), saved[4].(time.Duration)
		calibrateFor, burstFor, MaxBurstRequests = saved[5].(time.Duration), saved[6].(time.Duration), saved[7].(int)
		recoverWithin, overloadTimeout = saved[8].(time.Duration), saved[9].(time.Duration)
		storeDeadline, storePoll, failoverRound, readinessGrace = saved[10].(time.Duration), saved[11].(time.Duration), saved[12].(time.Duration), saved[13].(time.Duration)
	}
}

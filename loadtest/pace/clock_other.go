//go:build !linux

package pace

import "errors"

// newPreciseClock has no precise clock to offer outside Linux; NewClock
// then uses a TimerClock.
func newPreciseClock() (Clock, error) {
	return nil, errors.New("pace: no precise clock on this platform")
}

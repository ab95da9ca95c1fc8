//go:build !linux

package clock

import "errors"

// newPreciseClock has no precise clock to offer outside Linux; New
// then uses a Timer.
func newPreciseClock() (Clock, error) {
	return nil, errors.New("clock: no precise clock on this platform")
}

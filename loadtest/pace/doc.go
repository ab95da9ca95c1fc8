// Package pace schedules open-model iterations: vegeta pacers with an end
// (Constant for k6's constant-arrival-rate, Ramping for
// ramping-arrival-rate); package clock starts the iterations on time. It
// knows nothing of scenario files: package executor makes a scenario's
// pacer from its fields.
package pace

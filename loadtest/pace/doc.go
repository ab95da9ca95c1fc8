// Package pace schedules open-model iterations: vegeta pacers with an end
// (Constant for k6's constant-arrival-rate, Ramping for
// ramping-arrival-rate) and a Clock precise enough to start iterations on
// time. It knows nothing of scenario files: package executor makes a
// scenario's pacer from its fields.
package pace

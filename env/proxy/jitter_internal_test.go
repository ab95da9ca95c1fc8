package proxy

import (
	"testing"
	"time"
)

// The delay stays within latency ± jitter and uses the whole range; with
// no latency, jitter adds nothing, and Heal removes it.
func TestJitter(t *testing.T) {
	p := &Proxy{}
	p.SetLatency(100 * time.Millisecond)
	p.SetJitter(50 * time.Millisecond)
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := p.delay()
		lo, hi = min(lo, d), max(hi, d)
	}
	// 1,000 uniform draws all in one quarter of the range: (3/4)^1000.
	if lo < 50*time.Millisecond || hi > 150*time.Millisecond || lo > 75*time.Millisecond || hi < 125*time.Millisecond {
		t.Errorf("delays from %s to %s; want them spread over 50ms to 150ms", lo, hi)
	}
	p.SetLatency(0)
	if d := p.delay(); d != 0 {
		t.Errorf("delay with jitter and no latency = %s; want 0", d)
	}
	p.SetLatency(100 * time.Millisecond)
	p.Heal()
	if d := p.delay(); d != 0 {
		t.Errorf("delay after Heal = %s; want 0", d)
	}
}

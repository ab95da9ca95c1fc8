package exporter

// PID is p's process id, for tests that read its /proc entry.
func PID(p *Process) int { return p.proc.PID() }

// FreePort lets the tests choose the ports exporters are given.
var FreePort = &freePort

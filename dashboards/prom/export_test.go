package prom

// FreePort lets the tests choose the port Prometheus is given.
var FreePort = &freePort

// Package env brings up the system under test for the harness: the stores
// and one or more API processes of this repository's build, and takes them
// down again on every exit path.
//
// The harness treats the API as a black box: it starts the taskapi binary
// with environment variables, waits for its readiness endpoint, and from
// then on only knows its address. The same code serves every Provider,
// which only differ in where the stores come from: embedded and external
// here, containers in env/docker, a package of its own (as a
// testcontainers-go module is) so that env does not depend on a container
// engine's client.
//
// An Env and its APIs are safe to Close from any goroutine, once or more.
package env

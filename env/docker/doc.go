// Package docker is the env.Provider that runs the stores in containers
// (testcontainers-go): a MongoDB replica set and a Redis primary with
// replicas and optional Sentinels, on a private network of their own.
//
// It is a package apart from env, as a testcontainers-go module is, so
// that the harness's other providers build without a container engine's
// client. Everything it creates carries LabelHarness and
// LabelEnvironment, so RemoveLeftovers (`harness down`) finds what a
// crashed run left behind.
package docker

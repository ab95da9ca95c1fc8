// Package deploy holds the deployment descriptions — the compose stack and
// its configuration files — and the tests that check they say what they
// mean.
//
// The compose file itself sits at the repository root (docker-compose.yml),
// where `docker compose` finds it; the files it mounts live here: nginx,
// Redis Sentinel, Prometheus and Grafana's provisioning.
package deploy

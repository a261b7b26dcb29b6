// Package deploy holds no code: its tests check the deployment files of the repository
// (docker-compose.yml, Dockerfile targets, deploy/k8s, deploy/nats, deploy/clickhouse,
// deploy/grafana) against the service binaries and the Kubernetes API types, without a Docker
// engine or a cluster. The container health check binary is in cmd/grpchealth.
package deploy

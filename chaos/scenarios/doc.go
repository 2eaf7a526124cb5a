// Package scenarios holds the reliability scenarios of RELIABILITY.md as Go
// tests, each named after its entry (TestB14…, TestB5…): the real shapesync
// binary runs as a child process (chaos/service) against a private Postgres
// cluster (replication/pgcluster/pgtest), and a protocol client
// (chaos/oracle) follows its shapes and audits what it serves.
//
// Layer 4: test code only.
package scenarios

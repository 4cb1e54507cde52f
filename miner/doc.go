// Package miner owns the scheduler of `splatbench mine`: one polling loop
// per validator (PullTask on each validator's own cooldown, never early), a
// bounded task queue feeding a pool of generation workers, a self-check that
// turns below-threshold results into empty (penalty-free) submissions, a
// submitter pool that signs and sends results without holding a worker,
// feedback accounting, a validator blacklist, crash-safe state (cooldowns,
// held tasks, counters) and Prometheus metrics.
//
// The far side is reached only through the small interfaces declared here
// (Client, Generator, Signer), so the scheduler is tested with fakes under
// testing/synctest; cmd wires the real bittensor client and pipeline.
package miner

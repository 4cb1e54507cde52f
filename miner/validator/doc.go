// Package validator owns the faithful local validator of subnet 17
// (docs/protocol.md §7): an Era-B 404-GEN validator axon that serves
// PullTask and SubmitResults with the real cooldown, throttle, penalty,
// violation, validation-lock and double-reward rules (docs/protocol.md §1.6), keeps
// per-miner state across restarts, scores through a pluggable Scorer, can
// inject transport faults, and reports a per-miner summary. It is both the
// test double for the miner's tests and the engine of `splatbench
// validator`.
package validator

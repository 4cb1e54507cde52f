// Package jobs is splatbench's job queue on NATS JetStream: generation
// jobs (a mining task, a serve request) and tuning trials go on a
// work-queue stream, workers on any number of hosts pull them one per
// pipeline, answer on a results stream, and send progress heartbeats
// while a job runs, so a dead worker's job goes to another worker after
// the ack wait. Jobs are de-duplicated by ID twice over: the stream drops
// a job published again within its duplicate window, and a worker never
// runs a job whose result exists. A job handed out MaxDeliver times
// without an answer goes to the dead-letter stream. Images and outputs
// larger than a message travel through JetStream's object store.
//
// On one host the server is embedded (StartServer) and the workers run
// in the same process; with many hosts every process connects to an
// external server or cluster (Connect), with TLS and credentials required
// off loopback. The package knows the pipeline only through Handler; the
// tuner and the miner see it through their own interfaces (Evaluator
// here, the miner's Generator in package miner).
package jobs

// Package results owns what a splatbench run leaves on disk: the run
// directory (<out>/<run-id>/), its metadata (run.json), the per-job records
// (trials.jsonl, one JSON object a line, appended and fsynced one at a time
// so a killed run keeps every finished record), and the statistics that
// every report quotes (nearest-rank percentiles, as MLPerf loadgen computes
// them). Tables, plots and the HTML report live in the subpackages table,
// plot and report.
//
// The package does not run anything, does not log and knows nothing about
// the pipeline: profiles and sweeps are stored as raw JSON that the caller
// supplies, and device facts other than what nvidia-smi and /proc say are
// filled in by the caller.
package results

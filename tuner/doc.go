// Package tuner owns the sweep side of `splatbench tune`: sweep spaces
// (grid, explicit lists, seeded random and Latin hypercube designs), the
// trial runner (warm-up, repeats, per-trial timeout, resume from
// trials.jsonl), per-point aggregation (latency percentiles, score,
// acceptance, expected reward rate under the 404-GEN validator cooldown
// rules), the multi-objective machinery (dominance, non-dominated sorting,
// crowding distance, hypervolume, knee point), profile selection, and the
// tune outputs (Pareto table, CSVs, Go benchmark lines, plots, report).
//
// It sees the pipeline only through its own Evaluator interface: a trial
// goes in, stage timings and scores come out. It imports configs and
// results and nothing else of the project.
package tuner

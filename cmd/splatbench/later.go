package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

// notBuilt is the run function of a command whose capability has not
// landed: it says so and exits 2, never pretending to work.
func notBuilt(what string) func(context.Context, *env, []string) error {
	return func(context.Context, *env, []string) error {
		return fmt.Errorf("%w: %s (see the project's open issues)", errNotBuilt, what)
	}
}

func mineCommand() *command {
	return &command{
		name:    "mine",
		summary: "mine on subnet 17 with a chosen profile (PullTask / SubmitResults)",
		usage:   "splatbench mine --profile PROFILE [flags]",
		long: `Pulls tasks from every validator at once, generates in a worker pool, checks its
own output against the profile's score threshold before submitting, and signs and
submits results the way the subnet's validators expect.

Exit status: 0 on a clean shutdown, 1 on a fatal error, 2 on bad flags or
configuration, 130 when interrupted.

Examples:
  splatbench mine --profile runs/20261125-203000-tune/profiles/best-reward-rate.yaml
  splatbench mine --profile fast --set score.threshold=0.65`,
		flags: func(*pflag.FlagSet) {},
		run:   notBuilt("the miner"),
	}
}


func validatorCommand() *command {
	return &command{
		name:    "validator",
		summary: "run a faithful local validator to dry-run a miner offline",
		usage:   "splatbench validator [flags]",
		long: `Runs a local subnet-17 validator (PullTask / SubmitResults, cooldowns,
signature checks, scoring) so a miner can be exercised end to end offline.

Examples:
  splatbench validator --listen 127.0.0.1:8091`,
		flags: func(*pflag.FlagSet) {},
		run:   notBuilt("the local validator"),
	}
}

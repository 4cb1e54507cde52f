package main

import (
	"context"
	"fmt"
)

// notBuilt is the run function of a command whose capability has not
// landed: it says so and exits 2, never pretending to work.
func notBuilt(what string) func(context.Context, *env, []string) error {
	return func(context.Context, *env, []string) error {
		return fmt.Errorf("%w: %s (see the project's open issues)", errNotBuilt, what)
	}
}

package pipeline

import "context"

type stageHookKey struct{}

// WithStageHook returns a context under which Run calls f with each stage's
// name just before the stage starts, so a caller (the service's job status)
// can say which stage is running. f must be quick and safe for concurrent
// use.
func WithStageHook(ctx context.Context, f func(stage string)) context.Context {
	return context.WithValue(ctx, stageHookKey{}, f)
}

// stageStarting calls ctx's stage hook, if any.
func stageStarting(ctx context.Context, stage string) {
	if f, ok := ctx.Value(stageHookKey{}).(func(string)); ok && f != nil {
		f(stage)
	}
}

package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestValidatorLockFlag: the validation lock is a flag (default the real
// validator's 30 s), so a demo with a shortened cooldown can shorten it too.
func TestValidatorLockFlag(t *testing.T) {
	fs := pflag.NewFlagSet("validator", pflag.ContinueOnError)
	validatorCommand().flags(fs)
	f := fs.Lookup("validation-lock")
	if f == nil || f.DefValue != "30s" {
		t.Fatalf("--validation-lock flag %+v, want one defaulting to 30s", f)
	}
	tests := []struct {
		lock, want time.Duration
	}{
		{30 * time.Second, 30 * time.Second},
		{2 * time.Second, 2 * time.Second},
		{0, time.Nanosecond}, // a zero option would mean the 30 s default
	}
	for _, tc := range tests {
		o := &validatorOptions{count: 1, cooldown: 10 * time.Second, throttle: time.Second, threshold: 0.6,
			validationLock: tc.lock, promptsSrc: "default", scorer: "gate", passScore: 1}
		opts, err := o.options()
		if err != nil {
			t.Fatal(err)
		}
		if opts.ValidationLock != tc.want {
			t.Errorf("--validation-lock %v: option %v, want %v", tc.lock, opts.ValidationLock, tc.want)
		}
	}
	o := &validatorOptions{count: 1, cooldown: 10 * time.Second, threshold: 0.6, validationLock: -time.Second}
	if _, err := o.options(); err == nil {
		t.Error("a negative --validation-lock was accepted")
	}
}

package validate

import (
	"context"
	"os"
	"testing"
)

// BenchmarkStatic times one static check through the node worker.
func BenchmarkStatic(b *testing.B) {
	v := testValidator(b)
	src, err := os.ReadFile("testdata/pass/cart.js")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := v.Static(context.Background(), src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecute times one execution check (a fresh node with three).
func BenchmarkExecute(b *testing.B) {
	v := testValidator(b)
	src, err := os.ReadFile("testdata/pass/cart.js")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := v.Execute(context.Background(), src)
		if err != nil || !r.OK() {
			b.Fatal(err, r.Failures)
		}
		b.ReportMetric(r.GenerateMs, "generate-ms")
	}
}

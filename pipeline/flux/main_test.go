package flux

import (
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
)

func testRuntime(t testing.TB) *ort.Runtime { return orttest.Runtime(t) }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/results"
)

// newMeta starts run.json for a command: build facts, host, the effective
// profile, and ONNX Runtime's version when the builder loaded it.
func newMeta(ctx context.Context, e *env, command string, p configs.Profile, b *pipeline.Builder) results.Meta {
	m := results.NewMeta(command, e.args, time.Now())
	host, err := results.CollectHost(ctx)
	if err != nil {
		e.log.Warn("host facts incomplete", "err", err)
	}
	m.Host = host
	if raw, err := json.Marshal(p); err == nil {
		m.Profile = raw
	}
	m.Device = map[string]string{"device": p.Device}
	if infos, err := cuda.Discover(e.log); err == nil && len(infos) > 0 {
		m.CUDAVersion = cuda.DriverVersionString(infos[0].DriverVersion)
		m.Device["cuda_devices"] = fmt.Sprint(len(infos))
		m.Device["cuda_device_0"] = fmt.Sprintf("%s (compute %s)", infos[0].Name, infos[0].ComputeCapability())
	}
	if b != nil {
		if rt, err := b.Runtime(); err == nil {
			m.ORTVersion = rt.Version()
			m.Device["ort_providers"] = strings.Join(rt.Providers(), ",")
		}
	}
	return m
}

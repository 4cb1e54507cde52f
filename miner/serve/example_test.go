package serve_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/miner/serve"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

// A generator that is not a pipeline: a fixed cloud that passes the
// validator's gates. A real service passes serve.GeneratorFunc(p.Run) for
// a *pipeline.Pipeline built from a profile.
func tinyGenerator(_ context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error) {
	c := splat.NewCloud(7000, 0)
	for i := range c.Len() {
		c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = float32(i%20)/20, float32(i/20%20)/20, float32(i/400)/20
		c.Rot[4*i+1] = 0.5
		c.LogScale[3*i], c.LogScale[3*i+1], c.LogScale[3*i+2] = -4, -4, -4
	}
	return &pipeline.State{Job: job, Cloud: c}, nil, nil
}

func Example() {
	opts := serve.DefaultOptions()
	opts.Workers = 1 // one per GPU
	s, err := serve.New(opts, serve.GeneratorFunc(tinyGenerator), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Warmup(context.Background(), pipeline.Job{ID: "warmup", Prompt: prompts.Text("a red cube")}); err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(s.Handler()) // splatbench serve calls s.Run(ctx, addr) instead
	defer hs.Close()

	resp, err := hs.Client().PostForm(hs.URL+"/generate/", url.Values{"prompt": {"a red cube"}, "seed": {"7"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get(serve.HeaderSplats), resp.Header.Get(serve.HeaderSeed))
	// Output: 200 application/octet-stream 7000 7
}

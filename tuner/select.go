package tuner

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results/atomicfile"
)

// Names of the emitted profiles, in the order Select returns them.
const (
	ProfileFastest    = "fastest"
	ProfileBestScore  = "best-score"
	ProfileBestReward = "best-reward-rate"
	ProfileKnee       = "knee"
)

// ProfilesDir is where WriteProfiles puts the profiles inside a run.
const ProfilesDir = "profiles"

// Pick is one selected point.
type Pick struct {
	// Name is the profile name (ProfileFastest, ...).
	Name string
	// Index is the point's index in the stats given to Select.
	Index int
	// Why says in a few words what made it win.
	Why string
}

// ErrNoResults is returned when no point has a successful trial to choose.
var ErrNoResults = errors.New("no point has a successful measured trial")

// Select chooses the four profiles among the points with at least one
// successful measured trial:
//
//   - fastest: lowest p50 latency among the points that passed the
//     self-check at least once (among all points if none did), ties to the
//     higher mean score — a profile that never passes earns nothing;
//   - best-score: highest mean score, ties to the lower p50 latency;
//   - best-reward-rate: most accepted results per hour under the reward
//     model, ties to the lower p50 latency;
//   - knee: the knee (see Knee) of the front of p50 latency against mean
//     score; when no point has a score, the fastest.
//
// Remaining ties go to the earlier point.
func Select(stats []PointStats) ([]Pick, error) {
	var ok []int
	for i, s := range stats {
		if s.OK() {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		return nil, ErrNoResults
	}
	score := func(i int) float64 { return nanTo(stats[i].Score.Mean, math.Inf(-1)) }
	lat := func(i int) float64 { return stats[i].Latency.P50 }
	best := func(cands []int, better func(a, b int) int) int {
		return slices.MinFunc(cands, func(a, b int) int { return cmp.Or(better(a, b), cmp.Compare(a, b)) })
	}
	passing := slices.DeleteFunc(slices.Clone(ok), func(i int) bool { return !(stats[i].AcceptRate > 0) })
	if len(passing) == 0 {
		passing = ok
	}
	fastest := best(passing, func(a, b int) int { return cmp.Or(cmp.Compare(lat(a), lat(b)), cmp.Compare(score(b), score(a))) })
	bestScore := best(ok, func(a, b int) int { return cmp.Or(cmp.Compare(score(b), score(a)), cmp.Compare(lat(a), lat(b))) })
	reward := func(i int) float64 { return nanTo(stats[i].Reward.AcceptedPerHour, math.Inf(-1)) }
	bestReward := best(ok, func(a, b int) int { return cmp.Or(cmp.Compare(reward(b), reward(a)), cmp.Compare(lat(a), lat(b))) })

	knee, kneeWhy := fastest, "no scores: the fastest"
	front, err := Front(stats, []Objective{objective("latency_p50"), objective("score")})
	if err != nil {
		return nil, err
	}
	if len(front) > 0 {
		vecs := make([][]float64, len(front))
		for k, i := range front {
			vecs[k] = []float64{lat(i), -stats[i].Score.Mean}
		}
		k, err := Knee(vecs)
		if err != nil {
			return nil, err
		}
		knee, kneeWhy = front[k], fmt.Sprintf("knee of the %d-point latency/score front", len(front))
	}
	s := func(i int) PointStats { return stats[i] }
	return []Pick{
		{ProfileFastest, fastest, fmt.Sprintf("p50 %.3g s", s(fastest).Latency.P50)},
		{ProfileBestScore, bestScore, fmt.Sprintf("mean score %.4g", s(bestScore).Score.Mean)},
		{ProfileBestReward, bestReward, fmt.Sprintf("%.3g accepted/h", s(bestReward).Reward.AcceptedPerHour)},
		{ProfileKnee, knee, kneeWhy},
	}, nil
}

func objective(name string) Objective {
	for _, o := range Objectives {
		if o.Name == name {
			return o
		}
	}
	panic("tuner: unknown objective " + name)
}

func nanTo(x, alt float64) float64 {
	if math.IsNaN(x) {
		return alt
	}
	return x
}

// ApplyPoint returns base with the point's knob values set and its name
// replaced by name.
func ApplyPoint(base configs.Profile, p Point, name string) (configs.Profile, error) {
	prof := base
	prof.Name = name
	for _, k := range slices.Sorted(maps.Keys(p.Values)) {
		if err := prof.SetValue(k, p.Values[k]); err != nil {
			return configs.Profile{}, fmt.Errorf("profile %s: point %s: %w", name, p.ID, err)
		}
	}
	return prof, nil
}

// WriteProfiles writes each pick as <runDir>/profiles/<name>.yaml: the
// base profile with the picked point's knobs applied. It returns the paths
// written, in the order of picks.
func WriteProfiles(runDir string, base configs.Profile, stats []PointStats, picks []Pick) ([]string, error) {
	dir := filepath.Join(runDir, ProfilesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write profiles: %w", err)
	}
	var paths []string
	for _, pk := range picks {
		if pk.Index < 0 || pk.Index >= len(stats) {
			return paths, fmt.Errorf("write profile %s: point index %d outside %d points", pk.Name, pk.Index, len(stats))
		}
		prof, err := ApplyPoint(base, stats[pk.Index].Point, pk.Name)
		if err != nil {
			return paths, err
		}
		var buf bytes.Buffer
		if err := prof.Encode(&buf); err != nil {
			return paths, fmt.Errorf("write profile %s: %w", pk.Name, err)
		}
		path := filepath.Join(dir, pk.Name+".yaml")
		if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return paths, fmt.Errorf("write profile %s: %w", pk.Name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/prompts"
)

// profileOptions are the flags of every command that runs the pipeline.
type profileOptions struct {
	profile string
	sets    []string
}

func (o *profileOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.profile, "profile", "p", "default", "profile: a preset name ("+fmt.Sprint(configs.PresetNames())+") or a YAML file")
	fs.StringArrayVar(&o.sets, "set", nil, "override a profile knob, e.g. --set fit.iterations=200 (repeatable)")
}

// load resolves the profile, applies --set overrides in order and validates
// the result; the returned profile is the effective one that runs record.
func (o *profileOptions) load(g *globalOptions) (configs.Profile, error) {
	p, err := configs.ResolveProfile(o.profile)
	if err != nil {
		return configs.Profile{}, err
	}
	for _, s := range o.sets {
		if err := p.Set(s); err != nil {
			return configs.Profile{}, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	if g.ortLib != "" {
		p.OrtLib = g.ortLib
	}
	if err := p.Validate(); err != nil {
		return configs.Profile{}, err
	}
	return p, nil
}

// isConfigError reports errors in configuration or input files, which exit
// with exitUsage.
func isConfigError(err error) bool {
	return errors.Is(err, configs.ErrInvalid) || errors.Is(err, prompts.ErrBadPrompt)
}

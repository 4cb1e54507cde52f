package miner

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// ValidatorEntry is one entry of a validators file: the static list of
// validators that `splatbench validator` writes and `splatbench mine
// --validators` reads in place of chain discovery.
type ValidatorEntry struct {
	UID     int    `yaml:"uid" json:"uid"`
	Hotkey  string `yaml:"hotkey" json:"hotkey"`
	Address string `yaml:"address" json:"address"` // host:port of the axon
	// Stake is optional; the miner skips entries below its --min-stake.
	Stake *float64 `yaml:"stake,omitempty" json:"stake,omitempty"`
}

// MarshalValidators writes entries as a validators file (YAML).
func MarshalValidators(entries []ValidatorEntry) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# validators for `splatbench mine --validators FILE`: uid, hotkey (SS58), address (host:port), stake\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(entries); err != nil {
		return nil, fmt.Errorf("validators file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("validators file: %w", err)
	}
	return []byte(b.String()), nil
}

// LoadValidators reads a validators file: a YAML (or JSON) list of
// {uid, hotkey, address, stake}, or a mapping whose "validators" key holds
// one. Entries whose stake is listed and below minStake are skipped, as
// the base miner skips them in the metagraph (docs/protocol.md, "Validators"). Errors name
// the file, line and field.
func LoadValidators(path string, minStake float64, log *slog.Logger) ([]Validator, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validators file: %w", err)
	}
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, bad(1, "no validators")
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode {
		var found *yaml.Node
		for i := 0; i+1 < len(list.Content); i += 2 {
			if list.Content[i].Value == "validators" {
				found = list.Content[i+1]
			}
		}
		if found == nil {
			return nil, bad(list.Line, `want a list of validators or a "validators" key`)
		}
		list = found
	}
	if list.Kind != yaml.SequenceNode {
		return nil, bad(list.Line, "want a list of {uid, hotkey, address}")
	}
	known := map[string]bool{"uid": true, "hotkey": true, "address": true, "stake": true}
	seen := map[string]int{}
	var out []Validator
	for i, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, bad(item.Line, "validators[%d]: want a mapping {uid, hotkey, address}", i)
		}
		for k := 0; k+1 < len(item.Content); k += 2 {
			if key := item.Content[k]; !known[key.Value] {
				return nil, bad(key.Line, "validators[%d]: unknown field %q (want uid, hotkey, address, stake)", i, key.Value)
			}
		}
		var e ValidatorEntry
		if err := item.Decode(&e); err != nil {
			return nil, bad(item.Line, "validators[%d]: %v", i, err)
		}
		if e.UID < 0 {
			return nil, bad(item.Line, "validators[%d].uid: %d is negative", i, e.UID)
		}
		if _, err := bittensor.SS58DecodePublic(e.Hotkey); err != nil {
			return nil, bad(item.Line, "validators[%d].hotkey: %v", i, err)
		}
		host, port, err := net.SplitHostPort(e.Address)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			return nil, bad(item.Line, "validators[%d].address: %q is not host:port", i, e.Address)
		}
		if j, dup := seen[e.Hotkey]; dup {
			return nil, bad(item.Line, "validators[%d].hotkey: %s is also validators[%d]", i, e.Hotkey, j)
		}
		seen[e.Hotkey] = i
		if e.Stake != nil && *e.Stake < minStake {
			log.Info("skipping validator below the minimum stake", "uid", e.UID, "hotkey", e.Hotkey, "stake", *e.Stake,
				"min_stake", minStake)
			continue
		}
		out = append(out, Validator{UID: e.UID, Hotkey: e.Hotkey, Address: e.Address})
	}
	if len(out) == 0 {
		return nil, bad(list.Line, "no validator with stake >= %g (the minimum stake)", minStake)
	}
	return out, nil
}

package miner

import (
	"fmt"
	"net"
	"strings"

	"github.com/splatbench/splatbench/pipeline"
)

// IsLocal reports whether v's axon is on this machine (a loopback
// address): a local validator, such as splatbench validator, whose
// prompts the user chose.
func (v Validator) IsLocal() bool {
	host, _, err := net.SplitHostPort(v.Address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckTextCapability refuses to mine, before anything costs the user, with
// a profile that cannot generate free text while any validator is not
// local: the subnet's validators send free-text prompts, and every text
// task would be answered empty. allowEmpty is the user saying so is fine.
func CheckTextCapability(vals []Validator, caps pipeline.Capabilities, allowEmpty bool) error {
	if caps.FreeText || allowEmpty {
		return nil
	}
	var remote []string
	for _, v := range vals {
		if !v.IsLocal() {
			remote = append(remote, fmt.Sprintf("uid %d at %s", v.UID, v.Address))
		}
	}
	if len(remote) == 0 {
		return nil
	}
	if len(remote) > 3 {
		remote = append(remote[:3], fmt.Sprintf("and %d more", len(remote)-3))
	}
	return fmt.Errorf("the profile cannot generate free-text prompts, which validators %s send: every text task would be answered empty. %s; or accept empty text results with --allow-empty-text",
		strings.Join(remote, ", "), caps.Note)
}

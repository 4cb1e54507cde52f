// Package bittensor owns the parts of the Bittensor SDK a subnet-17 miner
// and a local validator need, written from the wire description in
// docs/protocol.md §1–§2: sr25519 keys and signatures with the
// "substrate" signing context, substrate secret URIs (mnemonic, hex seed,
// hard junctions such as //Alice), SS58 addresses, Bittensor wallet hotkey
// files, the 404-GEN synapses (PullTask, SubmitResults, GetVersion) and the
// axon/dendrite HTTP transport (headers, body hash, transport signature,
// nonce rules and status codes of bittensor 9.9.0).
//
// Dendrite is the client a miner uses to call validators; Axon is the
// http.Handler a (local) validator serves.
package bittensor

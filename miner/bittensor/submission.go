package bittensor

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// MinerLicenseConsentDeclaration is the constant that opens every
// submission signature message (docs/protocol.md §1.5), verbatim.
const MinerLicenseConsentDeclaration = "I, as a miner on SN17, have obtained all licenses, rights and consents required to use, reproduce, modify, display, distribute and make available my submitted results to this subnet and its end users"

// ErrMalformedSignature is a submission signature that is not strict base64
// of 64 bytes. The real validator raises on it (HTTP 500, no penalty) rather
// than failing the task.
var ErrMalformedSignature = errors.New("malformed submission signature")

// SubmissionMessage is the exact message a miner signs when submitting:
// declaration + str(submit_time) + prompt + validator hotkey + miner hotkey,
// concatenated with no separators.
func SubmissionMessage(submitTime int64, prompt, validatorHotkey, minerHotkey string) string {
	return MinerLicenseConsentDeclaration + strconv.FormatInt(submitTime, 10) + prompt + validatorHotkey + minerHotkey
}

// SubmissionSignature signs the submission message with the miner hotkey
// and returns it as standard padded base64, as SubmitResults.signature
// carries it.
func SubmissionSignature(miner *Keypair, submitTime int64, prompt, validatorHotkey string) (string, error) {
	sig, err := miner.Sign([]byte(SubmissionMessage(submitTime, prompt, validatorHotkey, miner.SS58())))
	if err != nil {
		return "", fmt.Errorf("submission signature: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig[:]), nil
}

// VerifySubmissionSignature checks a SubmitResults signature the way the
// validator does. It returns an error wrapping ErrMalformedSignature for a
// signature that is not strict base64 of 64 bytes (or a miner hotkey that is
// not an address), and one wrapping ErrBadSignature when it does not verify.
func VerifySubmissionSignature(sigB64 string, submitTime int64, prompt, validatorHotkey, minerHotkey string) error {
	raw, err := base64.StdEncoding.Strict().DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("%w: base64: %w", ErrMalformedSignature, err)
	}
	if len(raw) != SignatureSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMalformedSignature, len(raw), SignatureSize)
	}
	pub, err := SS58DecodePublic(minerHotkey)
	if err != nil {
		return fmt.Errorf("%w: miner hotkey: %w", ErrMalformedSignature, err)
	}
	if err := Verify(pub, []byte(SubmissionMessage(submitTime, prompt, validatorHotkey, minerHotkey)), [SignatureSize]byte(raw)); err != nil {
		return fmt.Errorf("submission signature of %s: %w", minerHotkey, err)
	}
	return nil
}

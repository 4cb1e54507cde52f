package cuda

import (
	"slices"
	"strings"
)

// Rates are the vendor's datasheet peaks of a card: dense fp16/bf16
// tensor-core FLOP/s (fp32 accumulate, no sparsity) and memory bandwidth
// in bytes/s. A large matrix product reaches about 80 % of the FLOP/s (790
// of 989 TFLOP/s on an H100 or H200), a device copy about 90 % of the
// bandwidth.
type Rates struct {
	FLOPs     float64
	Bandwidth float64
}

// cardRates are matched against a device name's words, most specific
// first: "NVIDIA H100 PCIe" is not an "NVIDIA H100 80GB HBM3".
var cardRates = []struct {
	words []string
	Rates
}{
	{[]string{"H200", "NVL"}, Rates{835e12, 4.8e12}},
	{[]string{"H200"}, Rates{989e12, 4.8e12}},
	{[]string{"H100", "PCIe"}, Rates{756e12, 2.0e12}},
	{[]string{"H100", "NVL"}, Rates{835e12, 3.9e12}},
	{[]string{"H100"}, Rates{989e12, 3.35e12}},
	{[]string{"A100", "40GB"}, Rates{312e12, 1.555e12}},
	{[]string{"A100", "80GB", "PCIe"}, Rates{312e12, 1.935e12}},
	{[]string{"A100"}, Rates{312e12, 2.039e12}},
	{[]string{"L40S"}, Rates{362e12, 0.864e12}},
	{[]string{"RTX", "4090"}, Rates{165e12, 1.008e12}},
}

// RatesOf returns the datasheet peaks of the card a CUDA device name
// names ("NVIDIA H200", "NVIDIA A100-SXM4-80GB"), false for a card not in
// the table.
func RatesOf(name string) (Rates, bool) {
	words := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool { return r == ' ' || r == '-' || r == '_' })
	for _, c := range cardRates {
		if !slices.ContainsFunc(c.words, func(w string) bool { return !slices.Contains(words, strings.ToUpper(w)) }) {
			return c.Rates, true
		}
	}
	return Rates{}, false
}

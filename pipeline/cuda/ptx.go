package cuda

import (
	"fmt"
	"regexp"
	"strconv"
)

var versionLine = regexp.MustCompile(`(?m)^[ \t]*\.version[ \t]+(\d+)\.(\d+)[ \t]*$`)

// ptxVersion returns the ISA version a PTX text declares.
func ptxVersion(src []byte) (major, minor int, err error) {
	m := versionLine.FindSubmatch(src)
	if m == nil {
		return 0, 0, fmt.Errorf("cuda: PTX has no .version line")
	}
	major, _ = strconv.Atoi(string(m[1]))
	minor, _ = strconv.Atoi(string(m[2]))
	return major, minor, nil
}

// loweredPTXVersion is the ISA version the fallback declares: PTX 7.0 is
// what CUDA 11.0 drivers (r450) compile, and it has every instruction the
// kernels use (sm_75 needs ISA ≥ 6.3).
const loweredPTXVersion = "7.0"

// lowerPTX returns a copy of src whose .version line says to. It changes
// nothing else; whether the kernels' instructions exist at that version is
// checked by loading the result (TestLoweredPTXLoads under the gpu tag).
func lowerPTX(src []byte, to string) ([]byte, error) {
	if _, _, err := ptxVersion(src); err != nil {
		return nil, err
	}
	out := versionLine.ReplaceAll(src, []byte(".version "+to))
	return out, nil
}

package cuda

import (
	"fmt"
	"unsafe"
)

// DriverError is a failed driver call: the call's name, its CUresult and
// the driver's name for it.
type DriverError struct {
	Call string
	Code int
	Name string
}

func (e *DriverError) Error() string {
	return fmt.Sprintf("cuda: %s failed: %s (%d)", e.Call, e.Name, e.Code)
}

// CUresult values the package reacts to.
const (
	resultSuccess              = 0
	resultNoDevice             = 100
	resultInvalidPTX           = 218
	resultUnsupportedPTXVer    = 222
	resultJITCompilerNotFound  = 221
	resultNoBinaryForGPU       = 209
	resultInsufficientDriver   = 35
	resultNotReady             = 600
	resultOutOfMemory          = 2
	resultInvalidValue         = 1
	resultNotInitialized       = 3
	resultLaunchOutOfResources = 701
)

// knownNames are used when cuGetErrorName cannot be called.
var knownNames = map[int]string{
	resultSuccess: "CUDA_SUCCESS", resultInvalidValue: "CUDA_ERROR_INVALID_VALUE",
	resultOutOfMemory: "CUDA_ERROR_OUT_OF_MEMORY", resultNotInitialized: "CUDA_ERROR_NOT_INITIALIZED",
	resultInsufficientDriver: "CUDA_ERROR_INSUFFICIENT_DRIVER", resultNoDevice: "CUDA_ERROR_NO_DEVICE",
	resultNoBinaryForGPU: "CUDA_ERROR_NO_BINARY_FOR_GPU", resultInvalidPTX: "CUDA_ERROR_INVALID_PTX",
	resultJITCompilerNotFound: "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
	resultUnsupportedPTXVer:   "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", resultNotReady: "CUDA_ERROR_NOT_READY",
	resultLaunchOutOfResources: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
}

// check turns a CUresult into nil or a *DriverError naming call.
func (a *api) check(call string, code int32) error {
	if code == resultSuccess {
		return nil
	}
	return &DriverError{Call: call, Code: int(code), Name: a.errorName(code)}
}

func (a *api) errorName(code int32) string {
	if a != nil && a.cuGetErrorName != nil {
		var p *byte
		if a.cuGetErrorName(code, unsafe.Pointer(&p)) == resultSuccess && p != nil {
			return cString(p, 64)
		}
	}
	if n, ok := knownNames[int(code)]; ok {
		return n
	}
	return "CUDA_ERROR_UNKNOWN_CODE"
}

// cString copies a NUL-terminated C string of at most max bytes.
func cString(p *byte, max int) string {
	var b []byte
	for i := 0; i < max; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

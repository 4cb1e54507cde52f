// Package ort owns splatbench's use of ONNX Runtime: finding the shared
// library (flag, SPLATBENCH_ORT_LIB, the set-up cache), initialising it once
// per process, probing which execution providers the library has, checking a
// model file's inputs and outputs against what a stage expects (Spec), and
// sessions that pick the first working provider from a profile's order and
// run float32 data through preallocated tensors (converting to and from fp16,
// bf16 and uint8 where a model wants those). A session can also keep its
// tensors in a GPU's memory, bound once, so that ONNX Runtime replays it as a
// CUDA graph (WithCUDAGraph); onnxruntime_go cannot make such tensors, so
// capi.go calls those few C API functions itself, through purego.
//
// It is the only package in splatbench that uses cgo (through
// github.com/yalue/onnxruntime_go).
package ort

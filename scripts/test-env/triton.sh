#!/usr/bin/env bash
# A real Triton Inference Server for tests/faces/test_triton_*.py and `moviefaces triton-serve`:
# .venv-triton holds the nvidia-pytriton wheel (tritonserver 2.51 with the Python backend; it pins
# numpy<2, hence its own venv) and onnxruntime for the Python-backend models that wrap ONNX files.
# Idempotent: does nothing when the venv already imports both.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENV=.venv-triton
PYTRITON_VERSION=0.7.0

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<PY 2>/dev/null
import importlib.metadata as m, onnxruntime, numpy
assert m.version("nvidia-pytriton") == "$PYTRITON_VERSION"
PY
then
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "nvidia-pytriton==$PYTRITON_VERSION" onnxruntime
"$VENV/bin/python" -c "import onnxruntime, numpy, pytriton; print('triton venv ready: numpy', numpy.__version__, 'onnxruntime', onnxruntime.__version__)"

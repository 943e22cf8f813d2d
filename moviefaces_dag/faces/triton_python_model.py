"""Triton Python-backend model that runs one ONNX file on onnxruntime.

Not imported by moviefaces: triton_server.py copies it into a model repository as `model.py`,
where Triton's Python backend loads it (the server build in the nvidia-pytriton wheel has no
onnxruntime backend). The config.pbtxt beside it names the file in the `onnx_path` parameter.
"""

import json

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = int(params.get("intra_op_threads", "0"))
        self.session = ort.InferenceSession(params["onnx_path"], options,
                                            providers=["CPUExecutionProvider"])
        self.input_name = config["input"][0]["name"]
        self.output_names = [o["name"] for o in config["output"]]
        self.batched = config.get("max_batch_size", 0) > 0

    def execute(self, requests):
        arrays = [pb_utils.get_input_tensor_by_name(r, self.input_name).as_numpy()
                  for r in requests]
        if self.batched and len(arrays) > 1:
            # Dynamic batching handed us several requests: one onnxruntime call for all.
            try:
                outs = self._run(np.concatenate(arrays))
                cuts = np.cumsum([len(a) for a in arrays])[:-1]
                split = [np.split(o, cuts) for o in outs]
                return [self._response(list(parts)) for parts in zip(*split, strict=True)]
            except Exception:
                pass  # one bad request spoils the batch: answer each request on its own
        responses = []
        for array in arrays:
            try:
                responses.append(self._response(self._run(array)))
            except Exception as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
        return responses

    def _run(self, array):
        return self.session.run(self.output_names, {self.input_name: array})

    def _response(self, outs):
        tensors = [pb_utils.Tensor(n, np.ascontiguousarray(o))
                   for n, o in zip(self.output_names, outs, strict=True)]
        return pb_utils.InferenceResponse(output_tensors=tensors)

"""The inference service: FastAPI + ONNX Runtime serving the Iris RandomForest."""

SERVICE_NAME = "iris-inference-api"
__version__ = "0.1.0"

"""Turning infer payloads into model inputs and model outputs into infer replies."""

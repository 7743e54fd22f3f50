"""Deployments: finished NN and RF jobs served as endpoints, recorded in the MLflow registry."""

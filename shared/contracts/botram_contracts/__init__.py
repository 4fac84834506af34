"""Botram's public contracts: event models, envelope, subjects, JSON Schemas, reference data."""

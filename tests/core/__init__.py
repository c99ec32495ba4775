"""Tests of the core: store, sync engine, CLI, config, packaging."""

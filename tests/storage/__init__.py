"""Tests of storage/: the relational store, its migrations and the embedded telemetry store."""

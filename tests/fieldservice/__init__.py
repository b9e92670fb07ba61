"""Tests of fieldservice/: tickets and their lifecycle."""

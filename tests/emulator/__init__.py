"""Tests of the emulator itself and of the shared fixtures."""

"""Tests of kit.lab, the local ARM emulator."""

"""Sensors as master data (registration, calibration), the storage limits a reading is judged
against, and the out-of-limit readings handed to the cold-chain module."""

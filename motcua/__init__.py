"""motcua: queue and kiosk service for Vietnam's one-stop reception counters."""

__version__ = "0.1.0"

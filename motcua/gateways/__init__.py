"""Example adapters for the notification gateways an office contracts (SMS, Zalo ZNS)."""

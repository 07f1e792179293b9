"""Reading a citizen's chip ID card (CCCD) at the kiosk, keeping only what Decree 13/2023 allows:
a keyed hash of the number to link visits, and an age band for reports."""

"""A centre's day on a virtual clock, through the real engine: scenarios, arrivals, the day
runner and its report (`motcua simulate`), and staffing advice (`motcua staffing`)."""

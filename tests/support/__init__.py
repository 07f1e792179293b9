"""What tests share: paths and services, the demo office's people and devices, a live server,
the browser and printer-sink fixtures, the screen checks (axe-core, text cut off), the engine
driver, and the scripted report day.

Test modules import helpers from here only, never from one another."""

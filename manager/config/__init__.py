"""Configuration pages (managers and admins): fields, counters, priority, printers, devices,
users, schedule, alerts, announcements, ratings, kiosk; and the audit log.

One module per entity on one blueprint (`base.bp`); the six entity editors share
`editor.Editor`. Every change is validated with config.toml's own rules, written with an
AuditLog row and announced as `config.updated` in the same transaction
(manager.config_service.apply), so kiosks, counters and displays see it at once without a
restart. `manager.config_views` imports the page modules and hands the blueprint to the app.
"""

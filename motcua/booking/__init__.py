"""Appointments: a field's bookable hours cut into slots, a booking per citizen, its check-in at
the kiosk as a ticket marked `appointment`, and the day end's no-shows.

- `settings`: a field's `booking` table (office settings `booking_fields`) and the office's keys.
- `slots`: the slots of a day with the places left.
- `book`: booking, cancelling and looking up an appointment.
- `arrival`: the kiosk's check-in, which issues the ticket the queue order calls.
- `model`: the `Appointment` row.
"""

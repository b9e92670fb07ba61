"""Notifications: the outbox, message texts, who is told what, and the delivery channels."""

"""Leads: registered visitors whose searches concern a territory, and their consent."""

"""The territory lifecycle and what sits above single territories (umbrellas, consoles, billing)."""

"""A person's moving project ("mon projet d'installation"): what they seek, how complete it is,
and the stages it opens on the portal and on staged territory sites."""

"""The national portal on the platform's own host (`<BASE_DOMAIN>`, `www.`): discovery across
metropolitan France, and the partner territories it leads to."""

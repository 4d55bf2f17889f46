"""Real-name sign-in through a government identity provider (OpenID Connect): the relying party."""

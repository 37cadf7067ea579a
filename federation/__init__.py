"""Log in with the school's own account: SAML 2.0 identity providers per
huvudman, and the federated identities linked to accounts."""

"""The BigCommerce single-click app: its credentials, its signed payloads, its callbacks (auth, load,
uninstall, remove user)."""
